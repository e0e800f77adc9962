/**
 * The directives Apache httpd 2.4.71 (Debian apache2) knows, with where they are allowed.
 *
 * Generated from the installed server, not typed by hand: every module in /usr/lib/apache2/modules
 * was loaded (once with each MPM: event, prefork, worker) and `apache2 -L` listed the directives.
 * Columns: name (canonical spelling; sections start with `<`), source module, context code,
 * AllowOverride class needed in .htaccess.
 *   context: S = server config / VirtualHost only (not in <Directory>, <Files>, <Location>, <If>, .htaccess)
 *            A = anywhere in *.conf, not .htaccess
 *            H = anywhere in *.conf and in .htaccess
 *            h = *.conf (no per-directory config) and .htaccess
 *            D = only inside <Directory>/<Files>/<Location>/<If>, not .htaccess
 *            d = only inside <Directory>/<Files>/<Location>/<If> and in .htaccess
 *   override: `*` = any AllowOverride but None; otherwise the class(es) joined with `+`.
 * Added by hand because the corpus was validated with them (they are not Debian apache2 modules):
 * mod_php (php_value, php_flag, php_admin_*), mod_fcgid (Fcgid* and the pre-2.3 names such as FCGIWrapper),
 * mod_wsgi (WSGI*).
 */

import { closestName } from '../suggest.js';

export type DirectiveContext = 'S' | 'A' | 'H' | 'h' | 'D' | 'd';

export interface ApacheDirectiveInfo {
  /** Canonical spelling, `<Directory` for sections. */
  name: string;
  module: string;
  context: DirectiveContext;
  /** AllowOverride classes that permit it in .htaccess (`*` = any but None); empty when not allowed. */
  override: string[];
}

const TABLE = `
<AuthnProviderAlias mod_authn_core S
<AuthzProviderAlias mod_authz_core S
<Directory core S
<DirectoryMatch core S
<Else core H *
<ElseIf core H *
<Files core H *
<FilesMatch core H *
<If core H *
<IfDefine core H *
<IfDirective core H *
<IfFile core H *
<IfModule core H *
<IfSection core H *
<IfVersion mod_version h *
<Limit core d AuthConfig+Limit
<LimitExcept core d AuthConfig+Limit
<Location core S
<LocationMatch core S
<LuaHookAccessChecker mod_lua H *
<LuaHookAuthChecker mod_lua H *
<LuaHookCheckUserID mod_lua H *
<LuaHookFixups mod_lua H *
<LuaHookMapToStorage mod_lua H *
<LuaHookPreTranslateName mod_lua H *
<LuaHookTranslateName mod_lua H *
<LuaHookTypeChecker mod_lua H *
<LuaQuickHandler mod_lua H *
<Macro mod_macro h *
<MDomain mod_md S
<MDomainSet mod_md S
<Proxy mod_proxy S
<ProxyMatch mod_proxy S
<RequireAll mod_authz_core d AuthConfig
<RequireAny mod_authz_core d AuthConfig
<RequireNone mod_authz_core d AuthConfig
<VirtualHost core S
AcceptFilter core S
AcceptPathInfo core H FileInfo
AccessFileName core S
Action mod_actions H FileInfo
AddAlt mod_autoindex H Indexes
AddAltByEncoding mod_autoindex H Indexes
AddAltByType mod_autoindex H Indexes
AddCharset mod_mime H FileInfo
AddDefaultCharset core H FileInfo
AddDescription mod_autoindex H Indexes
AddEncoding mod_mime H FileInfo
AddHandler mod_mime H FileInfo
AddIcon mod_autoindex H Indexes
AddIconByEncoding mod_autoindex H Indexes
AddIconByType mod_autoindex H Indexes
AddInputFilter mod_mime H FileInfo
AddLanguage mod_mime H FileInfo
AddModuleInfo mod_info S
AddOutputFilter mod_mime H FileInfo
AddOutputFilterByType mod_filter H FileInfo
AddType mod_mime H FileInfo
Alias mod_alias A
AliasMatch mod_alias S
AliasPreservePath mod_alias H FileInfo
allow mod_access_compat d Limit
AllowCONNECT mod_proxy_connect S
AllowEncodedSlashes core S
AllowMethods mod_allowmethods D
AllowOverride core D
AllowOverrideList core D
Anonymous mod_authn_anon d AuthConfig
Anonymous_LogEmail mod_authn_anon d AuthConfig
Anonymous_MustGiveEmail mod_authn_anon d AuthConfig
Anonymous_NoUserId mod_authn_anon d AuthConfig
Anonymous_VerifyEmail mod_authn_anon d AuthConfig
AsyncRequestWorkerFactor mpm S
AuthBasicAuthoritative mod_auth_basic d AuthConfig
AuthBasicFake mod_auth_basic d AuthConfig
AuthBasicProvider mod_auth_basic d AuthConfig
AuthBasicUseDigestAlgorithm mod_auth_basic d AuthConfig
AuthDBDUserPWQuery mod_authn_dbd D
AuthDBDUserRealmQuery mod_authn_dbd D
AuthDBMGroupFile mod_authz_dbm d AuthConfig
AuthDBMType mod_authn_dbm d AuthConfig
AuthDBMUserFile mod_authn_dbm d AuthConfig
AuthDigestAlgorithm mod_auth_digest d AuthConfig
AuthDigestDomain mod_auth_digest d AuthConfig
AuthDigestNcCheck mod_auth_digest d AuthConfig
AuthDigestNonceLifetime mod_auth_digest d AuthConfig
AuthDigestProvider mod_auth_digest d AuthConfig
AuthDigestQop mod_auth_digest d AuthConfig
AuthDigestShmemSize mod_auth_digest S
AuthFormAuthoritative mod_auth_form d AuthConfig
AuthFormBody mod_auth_form d AuthConfig
AuthFormDisableNoStore mod_auth_form d AuthConfig
AuthFormFakeBasicAuth mod_auth_form d AuthConfig
AuthFormLocation mod_auth_form d AuthConfig
AuthFormLoginRequiredLocation mod_auth_form d AuthConfig
AuthFormLoginSuccessLocation mod_auth_form d AuthConfig
AuthFormLogoutLocation mod_auth_form d AuthConfig
AuthFormMethod mod_auth_form d AuthConfig
AuthFormMimetype mod_auth_form d AuthConfig
AuthFormPassword mod_auth_form d AuthConfig
AuthFormProvider mod_auth_form d AuthConfig
AuthFormSitePassphrase mod_auth_form d AuthConfig
AuthFormSize mod_auth_form D
AuthFormUsername mod_auth_form d AuthConfig
AuthGroupFile mod_authz_groupfile d AuthConfig
AuthLDAPAuthorizePrefix mod_authnz_ldap d AuthConfig
AuthLDAPBindAuthoritative mod_authnz_ldap d AuthConfig
AuthLDAPBindDN mod_authnz_ldap d AuthConfig
AuthLDAPBindPassword mod_authnz_ldap d AuthConfig
AuthLDAPCharsetConfig mod_authnz_ldap S
AuthLDAPCompareAsUser mod_authnz_ldap d AuthConfig
AuthLDAPCompareDNOnServer mod_authnz_ldap d AuthConfig
AuthLDAPDereferenceAliases mod_authnz_ldap d AuthConfig
AuthLDAPGroupAttribute mod_authnz_ldap d AuthConfig
AuthLDAPGroupAttributeIsDN mod_authnz_ldap d AuthConfig
AuthLDAPInitialBindAsUser mod_authnz_ldap d AuthConfig
AuthLDAPInitialBindPattern mod_authnz_ldap d AuthConfig
AuthLDAPMaxSubGroupDepth mod_authnz_ldap d AuthConfig
AuthLDAPRemoteUserAttribute mod_authnz_ldap d AuthConfig
AuthLDAPRemoteUserIsDN mod_authnz_ldap d AuthConfig
AuthLDAPSearchAsUser mod_authnz_ldap d AuthConfig
AuthLDAPSubGroupAttribute mod_authnz_ldap d AuthConfig
AuthLDAPSubGroupClass mod_authnz_ldap d AuthConfig
AuthLDAPURL mod_authnz_ldap d AuthConfig
AuthMerging mod_authz_core d AuthConfig
AuthName mod_authn_core d AuthConfig
AuthnCacheContext mod_authn_socache D
AuthnCacheEnable mod_authn_socache S
AuthnCacheProvideFor mod_authn_socache d AuthConfig
AuthnCacheSOCache mod_authn_socache S
AuthnCacheTimeout mod_authn_socache d AuthConfig
AuthnzFcgiCheckAuthnProvider mod_authnz_fcgi H FileInfo
AuthnzFcgiDefineProvider mod_authnz_fcgi S
AuthType mod_authn_core d AuthConfig
AuthUserFile mod_authn_file d AuthConfig
AuthzDBDLoginToReferer mod_authz_dbd D
AuthzDBDQuery mod_authz_dbd D
AuthzDBDRedirectQuery mod_authz_dbd D
AuthzDBMType mod_authz_dbm d AuthConfig
AuthzSendForbiddenOnFailure mod_authz_core d AuthConfig
BalancerGrowth mod_proxy S
BalancerInherit mod_proxy S
BalancerMember mod_proxy A
BalancerPersist mod_proxy S
BrotliAlterETag mod_brotli S
BrotliCompressionMaxInputBlock mod_brotli S
BrotliCompressionQuality mod_brotli S
BrotliCompressionWindow mod_brotli S
BrotliFilterNote mod_brotli S
BrowserMatch mod_setenvif H FileInfo
BrowserMatchNoCase mod_setenvif H FileInfo
BufferedLogs mod_log_config S
BufferSize mod_buffer D
BusyScanInterval fcgid A
BusyTimeout fcgid A
CacheDefaultExpire mod_cache A
CacheDetailHeader mod_cache A
CacheDirLength mod_cache_disk S
CacheDirLevels mod_cache_disk S
CacheDisable mod_cache A
CacheEnable mod_cache A
cachefile mod_file_cache S
CacheHeader mod_cache A
CacheIgnoreCacheControl mod_cache S
CacheIgnoreHeaders mod_cache S
CacheIgnoreNoLastMod mod_cache A
CacheIgnoreQueryString mod_cache S
CacheIgnoreURLSessionIdentifiers mod_cache S
CacheKeyBaseURL mod_cache S
CacheLastModifiedFactor mod_cache A
CacheLock mod_cache S
CacheLockMaxAge mod_cache S
CacheLockPath mod_cache S
CacheMaxExpire mod_cache A
CacheMaxFileSize mod_cache_disk A
CacheMinExpire mod_cache A
CacheMinFileSize mod_cache_disk A
CacheNegotiatedDocs mod_negotiation S
CacheQuickHandler mod_cache S
CacheReadSize mod_cache_disk A
CacheReadTime mod_cache_disk A
CacheRoot mod_cache_disk S
CacheSocache mod_cache_socache S
CacheSocacheMaxSize mod_cache_socache A
CacheSocacheMaxTime mod_cache_socache A
CacheSocacheMinTime mod_cache_socache A
CacheSocacheReadSize mod_cache_socache A
CacheSocacheReadTime mod_cache_socache A
CacheStaleOnError mod_cache A
CacheStoreExpired mod_cache A
CacheStoreNoStore mod_cache A
CacheStorePrivate mod_cache A
CaseFilter mod_case_filter S
CaseFilterIn mod_case_filter_in S
CGIDScriptTimeout mod_cgid A
CGIPassAuth core d AuthConfig
CGIScriptTimeout mod_cgi A
CGIVar core H FileInfo
CharsetDefault mod_charset_lite H FileInfo
CharsetOptions mod_charset_lite H FileInfo
CharsetSourceEnc mod_charset_lite H FileInfo
CheckBasenameMatch mod_speling H Options
CheckCaseOnly mod_speling H Options
CheckSpelling mod_speling H Options
ChrootDir mod_unixd S
ContentDigest core H Options
CookieDomain mod_usertrack H FileInfo
CookieExpires mod_usertrack H FileInfo
CookieHttpOnly mod_usertrack H FileInfo
CookieName mod_usertrack H FileInfo
CookieSameSite mod_usertrack H FileInfo
CookieSecure mod_usertrack H FileInfo
CookieStyle mod_usertrack H FileInfo
CookieTracking mod_usertrack H FileInfo
CoreDumpDirectory core S
CustomLog mod_log_config S
DAV mod_dav D
DAVBasePath mod_dav D
DAVDepthInfinity mod_dav A
DAVGenericLockDB mod_dav_lock D
DAVLockDB mod_dav_fs S
DAVLockDiscovery mod_dav A
DAVMinTimeout mod_dav A
DBDExptime mod_dbd S
DBDInitSQL mod_dbd S
DBDKeep mod_dbd S
DBDMax mod_dbd S
DBDMin mod_dbd S
DBDParams mod_dbd S
DBDPersist mod_dbd S
DBDPrepareSQL mod_dbd S
DBDriver mod_dbd S
DefaultIcon mod_autoindex H Indexes
DefaultInitEnv fcgid A
DefaultLanguage mod_mime H FileInfo
DefaultMaxClassProcessCount fcgid A
DefaultMinClassProcessCount fcgid A
DefaultRuntimeDir core S
DefaultType core H FileInfo
Define core A
DeflateAlterEtag mod_deflate S
DeflateBufferSize mod_deflate S
DeflateCompressionLevel mod_deflate S
DeflateFilterNote mod_deflate S
DeflateInflateLimitRequestBody mod_deflate H *
DeflateInflateRatioBurst mod_deflate H *
DeflateInflateRatioLimit mod_deflate H *
DeflateMemLevel mod_deflate S
DeflateWindowSize mod_deflate S
deny mod_access_compat d Limit
DirectoryCheckHandler mod_dir H Indexes
DirectoryIndex mod_dir H Indexes
DirectoryIndexRedirect mod_dir H Indexes
DirectorySlash mod_dir H Indexes
DocumentRoot core S
DumpIOInput mod_dumpio S
DumpIOOutput mod_dumpio S
EnableMMAP core H FileInfo
EnableSendfile core H FileInfo
Error core H *
ErrorDocument core H FileInfo
ErrorLog core S
ErrorLogFormat core S
ErrorScanInterval fcgid A
ExpiresActive mod_expires H Indexes
ExpiresByType mod_expires H Indexes
ExpiresDefault mod_expires H Indexes
ExtendedStatus core S
ExtFilterDefine mod_ext_filter S
ExtFilterOptions mod_ext_filter D
FallbackResource mod_dir H Indexes
FancyIndexing mod_autoindex H *
FastCgiAccessChecker fcgid A
FastCgiAccessCheckerAuthoritative fcgid A
FastCgiAuthenticator fcgid A
FastCgiAuthenticatorAuthoritative fcgid A
FastCgiAuthorizer fcgid A
FastCgiAuthorizerAuthoritative fcgid A
FcgidAccessChecker fcgid A
FcgidAccessCheckerAuthoritative fcgid A
FcgidAuthenticator fcgid A
FcgidAuthenticatorAuthoritative fcgid A
FcgidAuthorizer fcgid A
FcgidAuthorizerAuthoritative fcgid A
FcgidBusyScanInterval fcgid S
FcgidBusyTimeout fcgid A
FcgidCmdOptions fcgid A
FcgidConnectTimeout fcgid A
FcgidErrorScanInterval fcgid S
FcgidFixPathinfo fcgid A
FcgidIdleScanInterval fcgid S
FcgidIdleTimeout fcgid A
FcgidInitialEnv fcgid A
FcgidIOTimeout fcgid A
FcgidIPCDir fcgid S
FcgidMaxProcesses fcgid S
FcgidMaxProcessesPerClass fcgid A
FcgidMaxRequestInMem fcgid A
FcgidMaxRequestLen fcgid A
FcgidMaxRequestsPerProcess fcgid A
FcgidMinProcessesPerClass fcgid A
FcgidOutputBufferSize fcgid A
FcgidPassHeader fcgid A
FcgidProcessLifeTime fcgid A
FcgidProcessTableFile fcgid S
FcgidSpawnScore fcgid S
FcgidSpawnScoreUpLimit fcgid S
FcgidTerminationScore fcgid S
FcgidTimeScore fcgid S
FcgidWin32PreventOrphans fcgid S
FcgidWrapper fcgid A
FcgidZombieScanInterval fcgid S
FCGIWrapper fcgid A
FileETag core H FileInfo
FilterChain mod_filter H Options
FilterDeclare mod_filter H Options
FilterProtocol mod_filter H Options
FilterProvider mod_filter H Options
FilterTrace mod_filter A
FlushMaxPipelined core S
FlushMaxThreshold core S
ForceLanguagePriority mod_negotiation H FileInfo
ForceType core H FileInfo
ForensicLog mod_log_forensic S
GlobalLog mod_log_config S
GracefulShutdownTimeout mpm S
Group mod_unixd S
H2CopyFiles mod_http2 H FileInfo
H2Direct mod_http2 S
H2EarlyHint mod_http2 H AuthConfig+FileInfo
H2EarlyHints mod_http2 S
H2MaxDataFrameLen mod_http2 S
H2MaxHeaderBlockLen mod_http2 S
H2MaxSessionStreams mod_http2 S
H2MaxStreamErrors mod_http2 S
H2MaxWorkerIdleSeconds mod_http2 S
H2MaxWorkers mod_http2 S
H2MinWorkers mod_http2 S
H2ModernTLSOnly mod_http2 S
H2OutputBuffering mod_http2 S
H2Padding mod_http2 S
H2ProxyRequests mod_http2 H FileInfo
H2Push mod_http2 H AuthConfig
H2PushDiarySize mod_http2 S
H2PushPriority mod_http2 S
H2PushResource mod_http2 H AuthConfig+FileInfo
H2SerializeHeaders mod_http2 S
H2SessionExtraFiles mod_http2 S
H2StreamMaxMemSize mod_http2 S
H2StreamTimeout mod_http2 S
H2TLSCoolDownSecs mod_http2 S
H2TLSWarmUpSize mod_http2 S
H2Upgrade mod_http2 H AuthConfig
H2WebSockets mod_http2 S
H2WindowSize mod_http2 S
Header mod_headers H FileInfo
HeaderName mod_autoindex H Indexes
HeartbeatAddress mod_heartbeat S
HeartbeatListen mod_heartmonitor S
HeartbeatMaxServers mod_heartmonitor S
HeartbeatStorage mod_heartmonitor S
HostnameLookups core A
HttpProtocolOptions core S
IdentityCheck mod_ident A
IdentityCheckTimeout mod_ident A
IdleScanInterval fcgid A
IdleTimeout fcgid A
ImapBase mod_imagemap H Indexes
ImapDefault mod_imagemap H Indexes
ImapMenu mod_imagemap H Indexes
Include core A
IncludeOptional core A
IndexHeadInsert mod_autoindex H Indexes
IndexIgnore mod_autoindex H Indexes
IndexIgnoreReset mod_autoindex H Indexes
IndexOptions mod_autoindex H Indexes
IndexOrderDefault mod_autoindex H Indexes
IndexStyleSheet mod_autoindex H Indexes
InputSed mod_sed D
IPCCommTimeout fcgid A
IPCConnectTimeout fcgid A
KeepAlive http_core S
KeepAliveTimeout http_core S
KeptBodySize mod_request D
LanguagePriority mod_negotiation H FileInfo
LDAPCacheEntries util_ldap S
LDAPCacheTTL util_ldap S
LDAPConnectionPoolTTL util_ldap S
LDAPConnectionTimeout util_ldap S
LDAPLibraryDebug util_ldap S
LDAPOpCacheEntries util_ldap S
LDAPOpCacheTTL util_ldap S
LDAPReferralHopLimit util_ldap d AuthConfig
LDAPReferrals util_ldap d AuthConfig
LDAPRetries util_ldap S
LDAPRetryDelay util_ldap S
LDAPSharedCacheFile util_ldap S
LDAPSharedCacheSize util_ldap S
LDAPTimeout util_ldap S
LDAPTrustedClientCert util_ldap d AuthConfig
LDAPTrustedGlobalCert util_ldap S
LDAPTrustedMode util_ldap S
LDAPVerifyServerCert util_ldap S
LimitInternalRecursion core S
LimitRequestBody core H *
LimitRequestFields core S
LimitRequestFieldsize core S
LimitRequestLine core S
LimitXMLRequestBody core H *
Listen mpm S
ListenBacklog mpm S
ListenCoresBucketsRatio mpm S
ListenTCPDeferAccept mpm S
LoadFile mod_so S
LoadModule mod_so S
LogFormat mod_log_config S
LogIOTrackTTFB mod_logio H *
LogLevel core A
LogMessage mod_log_debug A
Lua_____ByteCodeHack mod_lua H *
LuaAuthzProvider mod_lua S
LuaCodeCache mod_lua H *
LuaHookAccessChecker mod_lua H *
LuaHookAuthChecker mod_lua H *
LuaHookCheckUserID mod_lua H *
LuaHookFixups mod_lua H *
LuaHookInsertFilter mod_lua H *
LuaHookLog mod_lua H *
LuaHookMapToStorage mod_lua H *
LuaHookPreTranslateName mod_lua H *
LuaHookTranslateName mod_lua H *
LuaHookTypeChecker mod_lua H *
LuaInherit mod_lua H *
LuaInputFilter mod_lua H *
LuaMapHandler mod_lua H *
LuaOutputFilter mod_lua H *
LuaPackageCPath mod_lua H *
LuaPackagePath mod_lua H *
LuaQuickHandler mod_lua H *
LuaRoot mod_lua H *
LuaScope mod_lua H *
MacroIgnoreBadNesting mod_macro h *
MacroIgnoreEmptyArgs mod_macro h *
MaxClients mpm S
MaxConnectionsPerChild core S
MaxKeepAliveRequests http_core S
MaxMemFree core S
MaxProcessCount fcgid A
MaxRangeOverlaps core A
MaxRangeReversals core A
MaxRanges core A
MaxRequestInMem fcgid A
MaxRequestLen fcgid A
MaxRequestsPerChild core S
MaxRequestsPerProcess fcgid A
MaxRequestWorkers mpm S
MaxSpareServers mpm S
MaxSpareThreads mpm S
MDActivationDelay mod_md S
MDBaseServer mod_md S
MDCACertificateFile mod_md S
MDCAChallenges mod_md S
MDCertificateAgreement mod_md S
MDCertificateAuthority mod_md S
MDCertificateCheck mod_md S
MDCertificateFile mod_md S
MDCertificateKeyFile mod_md S
MDCertificateProtocol mod_md S
MDCertificateStatus mod_md S
MDChallengeDns01 mod_md S
MDChallengeDns01Version mod_md S
MDCheckInterval mod_md S
MDContactEmail mod_md S
MDDriveMode mod_md S
MDExternalAccountBinding mod_md S
MDHttpProxy mod_md S
MDHttpProxyCACertificateFile mod_md S
MDInitialDelay mod_md S
MDMatchNames mod_md S
MDMember mod_md S
MDMembers mod_md S
MDMessageCmd mod_md S
MDMustStaple mod_md S
MDNotifyCmd mod_md S
MDomain mod_md S
MDPortMap mod_md S
MDPrivateKeys mod_md S
MDProfile mod_md S
MDProfileMandatory mod_md S
MDRenewMode mod_md S
MDRenewViaARI mod_md S
MDRenewWindow mod_md S
MDRequireHttps mod_md h AuthConfig
MDRetryDelay mod_md S
MDRetryFailover mod_md S
MDServerStatus mod_md S
MDStapleOthers mod_md S
MDStapling mod_md S
MDStaplingKeepResponse mod_md S
MDStaplingRenewWindow mod_md S
MDStoreDir mod_md S
MDStoreLocks mod_md S
MDWarnWindow mod_md S
MemcacheConnTTL mod_socache_memcache S
MergeSlashes core S
MergeTrailers core S
MetaDir mod_cern_meta H Indexes
MetaFiles mod_cern_meta H Indexes
MetaSuffix mod_cern_meta H Indexes
MimeMagicFile mod_mime_magic S
MinSpareServers mpm S
MinSpareThreads mpm S
mmapfile mod_file_cache S
ModemStandard mod_dialup D
ModMimeUsePathInfo mod_mime D
MultiviewsMatch mod_mime H FileInfo
Mutex core S
NameVirtualHost core S
NoProxy mod_proxy S
Options core H Options
order mod_access_compat d Limit
OutputBufferSize fcgid A
OutputSed mod_sed D
PassEnv mod_env H FileInfo
PassHeader fcgid A
php_admin_flag php A
php_admin_value php A
PHP_Fix_Pathinfo_Enable fcgid A
php_flag php H Options
php_value php H Options
PidFile core S
Port core S
ProcessLifeTime fcgid A
Protocol core S
ProtocolEcho mod_echo S
Protocols core S
ProtocolsHonorOrder core S
Proxy100Continue mod_proxy A
ProxyAddHeaders mod_proxy A
ProxyBadHeader mod_proxy S
ProxyBlock mod_proxy S
ProxyDomain mod_proxy S
ProxyErrorOverride mod_proxy A
ProxyExpressDBMFile mod_proxy_express h FileInfo
ProxyExpressDBMType mod_proxy_express h FileInfo
ProxyExpressEnable mod_proxy_express h FileInfo
ProxyFCGIBackendType mod_proxy_fcgi H FileInfo
ProxyFCGISetEnvIf mod_proxy_fcgi H FileInfo
ProxyFtpDirCharset mod_proxy_ftp A
ProxyFtpEscapeWildcards mod_proxy_ftp A
ProxyFtpListOnWildcard mod_proxy_ftp A
ProxyHCExpr mod_proxy_hcheck h FileInfo
ProxyHCTemplate mod_proxy_hcheck h FileInfo
ProxyHCTPsize mod_proxy_hcheck S
ProxyHTMLBufSize mod_proxy_html A
ProxyHTMLCharsetOut mod_proxy_html A
ProxyHTMLDoctype mod_proxy_html A
ProxyHTMLEnable mod_proxy_html A
ProxyHTMLEvents mod_proxy_html A
ProxyHTMLExtended mod_proxy_html A
ProxyHTMLFixups mod_proxy_html A
ProxyHTMLInterp mod_proxy_html A
ProxyHTMLLinks mod_proxy_html A
ProxyHTMLMeta mod_proxy_html A
ProxyHTMLStripComments mod_proxy_html A
ProxyHTMLURLMap mod_proxy_html A
ProxyIOBufferSize mod_proxy S
ProxyMaxForwards mod_proxy S
ProxyPass mod_proxy A
ProxyPassInherit mod_proxy S
ProxyPassInterpolateEnv mod_proxy A
ProxyPassMatch mod_proxy A
ProxyPassReverse mod_proxy A
ProxyPassReverseCookieDomain mod_proxy A
ProxyPassReverseCookiePath mod_proxy A
ProxyPreserveHost mod_proxy A
ProxyReceiveBufferSize mod_proxy S
ProxyRemote mod_proxy S
ProxyRemoteMatch mod_proxy S
ProxyRequests mod_proxy S
ProxySCGIInternalRedirect mod_proxy_scgi A
ProxySCGISendfile mod_proxy_scgi A
ProxySet mod_proxy A
ProxySourceAddress mod_proxy S
ProxyStatus mod_proxy S
ProxyTimeout mod_proxy S
ProxyVia mod_proxy S
ProxyWebsocketFallbackToProxyHttp mod_proxy_wstunnel A
QualifyRedirectURL core H FileInfo
ReadBufferSize core A
ReadmeName mod_autoindex H Indexes
ReceiveBufferSize mpm S
Redirect mod_alias H FileInfo
RedirectMatch mod_alias H FileInfo
RedirectPermanent mod_alias H FileInfo
RedirectRelative mod_alias H FileInfo
RedirectTemp mod_alias H FileInfo
RedisConnPoolTTL mod_socache_redis S
RedisTimeout mod_socache_redis S
ReflectorHeader mod_reflector H Options
RegexDefaultOptions core S
RegisterHttpMethod core S
RemoteIPHeader mod_remoteip S
RemoteIPInternalProxy mod_remoteip S
RemoteIPInternalProxyList mod_remoteip S
RemoteIPProxiesHeader mod_remoteip S
RemoteIPProxyProtocol mod_remoteip S
RemoteIPProxyProtocolExceptions mod_remoteip S
RemoteIPTrustedProxy mod_remoteip S
RemoteIPTrustedProxyList mod_remoteip S
RemoveCharset mod_mime H FileInfo
RemoveEncoding mod_mime H FileInfo
RemoveHandler mod_mime H FileInfo
RemoveInputFilter mod_mime H FileInfo
RemoveLanguage mod_mime H FileInfo
RemoveOutputFilter mod_mime H FileInfo
RemoveType mod_mime H FileInfo
RequestHeader mod_headers H FileInfo
RequestReadTimeout mod_reqtimeout S
Require mod_authz_core d AuthConfig
RewriteBase mod_rewrite H FileInfo
RewriteCond mod_rewrite H FileInfo
RewriteEngine mod_rewrite H FileInfo
RewriteMap mod_rewrite S
RewriteOptions mod_rewrite H FileInfo
RewriteRule mod_rewrite H FileInfo
RLimitCPU core H *
RLimitMEM core H *
RLimitNPROC core H *
Satisfy mod_access_compat d AuthConfig
ScoreBoardFile core S
Script mod_actions A
ScriptAlias mod_alias A
ScriptAliasMatch mod_alias S
ScriptLog mod_cgi S
ScriptLogBuffer mod_cgi S
ScriptLogLength mod_cgi S
ScriptSock mod_cgid S
SeeRequestTail core S
SendBufferSize mpm S
ServerAdmin core S
ServerAlias core S
ServerLimit mpm S
ServerName core S
ServerPath core S
ServerRoot core S
ServerSignature core H *
ServerTokens core S
Session mod_session H AuthConfig
SessionCookieName mod_session_cookie H AuthConfig
SessionCookieName2 mod_session_cookie H AuthConfig
SessionCookieRemove mod_session_cookie H AuthConfig
SessionCryptoCipher mod_session_crypto H AuthConfig
SessionCryptoDriver mod_session_crypto S
SessionCryptoPassphrase mod_session_crypto H AuthConfig
SessionCryptoPassphraseFile mod_session_crypto A
SessionDBDCookieName mod_session_dbd H AuthConfig
SessionDBDCookieName2 mod_session_dbd H AuthConfig
SessionDBDCookieRemove mod_session_dbd H AuthConfig
SessionDBDDeleteLabel mod_session_dbd H AuthConfig
SessionDBDInsertLabel mod_session_dbd H AuthConfig
SessionDBDPerUser mod_session_dbd H AuthConfig
SessionDBDSelectLabel mod_session_dbd H AuthConfig
SessionDBDUpdateLabel mod_session_dbd H AuthConfig
SessionEnv mod_session H AuthConfig
SessionExclude mod_session H AuthConfig
SessionExpiryUpdateInterval mod_session H AuthConfig
SessionHeader mod_session H AuthConfig
SessionInclude mod_session H AuthConfig
SessionMaxAge mod_session H AuthConfig
SetEnv mod_env H FileInfo
SetEnvIf mod_setenvif H FileInfo
SetEnvIfExpr mod_setenvif H FileInfo
SetEnvIfNoCase mod_setenvif H FileInfo
SetHandler core H FileInfo
SetInputFilter core H FileInfo
SetOutputFilter core H FileInfo
SharememPath fcgid A
SocketPath fcgid A
SpawnScore fcgid A
SpawnScoreUpLimit fcgid A
SSIEndTag mod_include S
SSIErrorMsg mod_include H *
SSIEtag mod_include d Limit
SSILastModified mod_include d Limit
SSILegacyExprParser mod_include d Limit
SSIStartTag mod_include S
SSITimeFormat mod_include H *
SSIUndefinedEcho mod_include H *
SSLCACertificateFile mod_ssl H AuthConfig
SSLCACertificatePath mod_ssl H AuthConfig
SSLCADNRequestFile mod_ssl S
SSLCADNRequestPath mod_ssl S
SSLCARevocationCheck mod_ssl S
SSLCARevocationFile mod_ssl S
SSLCARevocationPath mod_ssl S
SSLCertificateChainFile mod_ssl S
SSLCertificateFile mod_ssl S
SSLCertificateKeyFile mod_ssl S
SSLCipherSuite mod_ssl H AuthConfig
SSLCompression mod_ssl S
SSLCryptoDevice mod_ssl S
SSLEngine mod_ssl S
SSLFIPS mod_ssl S
SSLHonorCipherOrder mod_ssl S
SSLInsecureRenegotiation mod_ssl S
SSLLog mod_ssl H *
SSLLogLevel mod_ssl H *
SSLOCSPDefaultResponder mod_ssl S
SSLOCSPEnable mod_ssl S
SSLOCSPNoVerify mod_ssl S
SSLOCSPOverrideResponder mod_ssl S
SSLOCSPProxyURL mod_ssl S
SSLOCSPResponderCertificateFile mod_ssl S
SSLOCSPResponderTimeout mod_ssl S
SSLOCSPResponseMaxAge mod_ssl S
SSLOCSPResponseTimeSkew mod_ssl S
SSLOCSPUseRequestNonce mod_ssl S
SSLOpenSSLConfCmd mod_ssl S
SSLOptions mod_ssl H Options
SSLPassPhraseDialog mod_ssl S
SSLProtocol mod_ssl S
SSLProxyCACertificateFile mod_ssl S
SSLProxyCACertificatePath mod_ssl S
SSLProxyCARevocationCheck mod_ssl S
SSLProxyCARevocationFile mod_ssl S
SSLProxyCARevocationPath mod_ssl S
SSLProxyCheckPeerCN mod_ssl S
SSLProxyCheckPeerExpire mod_ssl S
SSLProxyCheckPeerName mod_ssl S
SSLProxyCipherSuite mod_ssl S
SSLProxyEngine mod_ssl S
SSLProxyMachineCertificateChainFile mod_ssl S
SSLProxyMachineCertificateFile mod_ssl S
SSLProxyMachineCertificatePath mod_ssl S
SSLProxyProtocol mod_ssl S
SSLProxyVerify mod_ssl S
SSLProxyVerifyDepth mod_ssl S
SSLRandomSeed mod_ssl S
SSLRenegBufferSize mod_ssl d AuthConfig
SSLRequire mod_ssl d AuthConfig
SSLRequireSSL mod_ssl d AuthConfig
SSLSessionCache mod_ssl S
SSLSessionCacheTimeout mod_ssl S
SSLSessionTicketKeyFile mod_ssl S
SSLSessionTickets mod_ssl S
SSLSRPUnknownUserSeed mod_ssl S
SSLSRPVerifierFile mod_ssl S
SSLStaplingCache mod_ssl S
SSLStaplingErrorCacheTimeout mod_ssl S
SSLStaplingFakeTryLater mod_ssl S
SSLStaplingForceURL mod_ssl S
SSLStaplingResponderTimeout mod_ssl S
SSLStaplingResponseMaxAge mod_ssl S
SSLStaplingResponseTimeSkew mod_ssl S
SSLStaplingReturnResponderErrors mod_ssl S
SSLStaplingStandardCacheTimeout mod_ssl S
SSLStrictSNIVHostCheck mod_ssl S
SSLUserName mod_ssl H AuthConfig
SSLUseStapling mod_ssl S
SSLVerifyClient mod_ssl H AuthConfig
SSLVerifyDepth mod_ssl H AuthConfig
SSLVHostSNIPolicy mod_ssl S
StartServers mpm S
StrictHostCheck core S
Substitute mod_substitute H FileInfo
SubstituteInheritBefore mod_substitute H FileInfo
SubstituteMaxLineLength mod_substitute H FileInfo
Suexec mod_unixd S
SuexecUserGroup mod_suexec S
TerminationScore fcgid A
ThreadLimit mpm S
ThreadsPerChild mpm S
ThreadStackSize core S
Timeout core S
TimeScore fcgid A
TraceEnable core S
TransferLog mod_log_config S
TypesConfig mod_mime S
UnDefine core A
UndefMacro mod_macro h *
UnsetEnv mod_env H FileInfo
Use mod_macro h *
UseCanonicalName core A
UseCanonicalPhysicalPort core A
User mod_unixd S
UserDir mod_userdir S
VirtualDocumentRoot mod_vhost_alias S
VirtualDocumentRootIP mod_vhost_alias S
VirtualScriptAlias mod_vhost_alias S
VirtualScriptAliasIP mod_vhost_alias S
WatchdogInterval mod_watchdog S
WSGIAcceptMutex wsgi S
WSGIAccessScript wsgi A
WSGIApplicationGroup wsgi A
WSGIAuthGroupScript wsgi A
WSGIAuthUserScript wsgi A
WSGICallableObject wsgi A
WSGIChunkedRequest wsgi A
WSGIDaemonProcess wsgi S
WSGIDestroyInterpreter wsgi S
WSGIDontWriteBytecode wsgi A
WSGIEnableSendfile wsgi A
WSGIErrorOverride wsgi A
WSGIGroupAuthoritative wsgi A
WSGIHandlerScript wsgi A
WSGIImportScript wsgi S
WSGILazyInitialization wsgi S
WSGIMapHEADToGET wsgi A
WSGIPassApacheRequest wsgi A
WSGIPassAuthorization wsgi A
WSGIProcessGroup wsgi A
WSGIPythonEggs wsgi S
WSGIPythonHashSeed wsgi S
WSGIPythonHome wsgi S
WSGIPythonOptimize wsgi S
WSGIPythonPath wsgi S
WSGIPythonWarnings wsgi S
WSGIRestrictEmbedded wsgi S
WSGIRestrictSignal wsgi S
WSGIRestrictStdin wsgi S
WSGIRestrictStdout wsgi S
WSGIScriptAlias wsgi S
WSGIScriptAliasMatch wsgi S
WSGIScriptReloading wsgi A
WSGISocketPrefix wsgi S
WSGISocketRotation wsgi S
WSGIStartMonitorThread wsgi A
WSGITrustedProxies wsgi A
WSGITrustedProxyHeaders wsgi A
WSGIUserAuthoritative wsgi A
WSGIVerboseDebugging wsgi S
XBitHack mod_include H Options
xml2EncAlias mod_xml2enc S
xml2EncDefault mod_xml2enc H *
xml2StartParse mod_xml2enc H *
ZombieScanInterval fcgid A
`;

let index: Map<string, ApacheDirectiveInfo> | null = null;

function build(): Map<string, ApacheDirectiveInfo> {
  const m = new Map<string, ApacheDirectiveInfo>();
  for (const row of TABLE.split('\n')) {
    if (row === '') continue;
    const [name, module, context, override] = row.split(' ');
    m.set(name.toLowerCase(), {
      name,
      module,
      context: context as DirectiveContext,
      override: override ? override.split('+') : [],
    });
  }
  return m;
}

/** Look a directive up by its lower-case key (`<directory` for a section). */
export function apacheDirective(key: string): ApacheDirectiveInfo | undefined {
  if (index === null) index = build();
  return index.get(key);
}

/** Every known directive (sections included), in name order. */
export function apacheDirectives(): ApacheDirectiveInfo[] {
  if (index === null) index = build();
  return [...index.values()];
}

/**
 * The modules of Debian's apache2 (2.4.71): those compiled in (`apache2 -l`), every
 * /usr/lib/apache2/modules/mod_*.so, and the ones the table adds by hand (mod_php, mod_wsgi,
 * mod_fcgid). Names without `mod_`; the MPMs as `mpm_event` etc.
 */
const STATIC_MODULES = 'core so watchdog http_core log_config logio version unixd';
const DEBIAN_MODULES = `${STATIC_MODULES} access_compat actions alias allowmethods asis auth_basic auth_digest
auth_form authn_anon authn_core authn_dbd authn_dbm authn_file authn_socache authnz_fcgi authnz_ldap authz_core
authz_dbd authz_dbm authz_groupfile authz_host authz_owner authz_user autoindex brotli bucketeer buffer cache
cache_disk cache_socache case_filter case_filter_in cern_meta cgi cgid charset_lite data dav dav_fs dav_lock dbd
deflate dialup dir dumpio echo env expires ext_filter file_cache filter headers heartbeat heartmonitor http2 ident
imagemap include info lbmethod_bybusyness lbmethod_byrequests lbmethod_bytraffic lbmethod_heartbeat ldap log_debug
log_forensic lua macro md mime mime_magic mpm_event mpm_prefork mpm_worker negotiation proxy proxy_ajp
proxy_balancer proxy_connect proxy_express proxy_fcgi proxy_fdpass proxy_ftp proxy_hcheck proxy_html proxy_http
proxy_http2 proxy_scgi proxy_uwsgi proxy_wstunnel ratelimit reflector remoteip reqtimeout request rewrite sed
session session_cookie session_crypto session_dbd setenvif slotmem_plain slotmem_shm socache_dbm socache_memcache
socache_redis socache_shmcb speling ssl status substitute suexec unique_id userdir usertrack vhost_alias xml2enc
php php5 php7 wsgi fcgid`;

let debianModules: Set<string> | null = null;

/**
 * A module name as `<IfModule>`, `LoadModule` or `settings.apacheModules` write it (`mod_rewrite.c`,
 * `rewrite_module`, `mod_rewrite`, `rewrite`, `mod_mpm_event.so`, MPMs' `event.c`) → `rewrite`,
 * `mpm_event`.
 */
export function moduleKey(name: string): string {
  let k = name
    .trim()
    .toLowerCase()
    .replace(/\.(c|so)$/, '');
  if (k === 'event' || k === 'prefork' || k === 'worker') return 'mpm_' + k;
  k = k.replace(/^mod_/, '').replace(/_module$/, '');
  if (k === 'http') return 'http_core'; // http_module is the identifier of http_core.c
  return k;
}

/**
 * Whether httpd reads the body of `<IfModule arg>`: the module (`!` negates) is loaded. Loaded:
 * the compiled-in ones, plus `modules` (settings.apacheModules) when given, else every Debian module
 * (why403 cannot see LoadModule lines of a file read on its own). Unknown modules are not loaded.
 */
export function ifModuleHolds(arg: string, modules?: readonly string[]): boolean {
  const neg = arg.startsWith('!');
  const k = moduleKey(neg ? arg.slice(1) : arg);
  if (debianModules === null) debianModules = new Set(DEBIAN_MODULES.split(/\s+/));
  let loaded: boolean;
  if (STATIC_MODULES.split(' ').includes(k)) loaded = true;
  else if (modules) loaded = modules.some((m) => moduleKey(m) === k);
  else loaded = debianModules.has(k);
  return neg ? !loaded : loaded;
}

/** The known directive closest to an unknown one (sections only among sections), canonical spelling. */
export function suggestApacheDirective(name: string, extra: readonly string[] = []): string | null {
  const section = name.startsWith('<');
  const names = apacheDirectives()
    .map((d) => d.name)
    .filter((n) => n.startsWith('<') === section);
  for (const e of extra) if (e.startsWith('<') === section) names.push(e);
  return closestName(name, names, (s) => s.toLowerCase());
}

/** httpd's words for an unknown directive, a suggestion, what it costs and how to declare one. */
export function unknownApacheMessage(name: string, htaccess: boolean, extra: readonly string[] = []): string {
  const guess = suggestApacheDirective(name, extra);
  return (
    `Invalid command '${name}', perhaps misspelled or defined by a module not included in the server configuration` +
    (guess ? `: did you mean '${guess}'?` : '') +
    (htaccess ? ' (every request in this directory answers 500' : ' (apache2 refuses to start') +
    '; if it comes from a module why403 does not know, add it to settings.apacheDirectives in .why403.json)'
  );
}
