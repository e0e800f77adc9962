/**
 * Every rule, sorted by id (the library's and the tests' list). A test fails when a rule file is
 * missing here or out of order. A new rule also gets one line in src/rule-manifest.ts, the lazy
 * list the CLI loads per server (test/rule-manifest.test.ts prints the line when it is missing).
 */
import type { Rule } from '../src/rule.js';
import apacheAuthmergingOffDropsDeny from './apache-authmerging-off-drops-deny.js';
import apacheCgiWithoutExeccgi from './apache-cgi-without-execcgi.js';
import apacheDeadAllowDeny from './apache-dead-allow-deny.js';
import apacheDirectoryIndexForbidden from './apache-directory-index-forbidden.js';
import apacheDocrootDenied from './apache-docroot-denied.js';
import apacheExplicitForbidden from './apache-explicit-forbidden.js';
import apacheForwardProxyDenied from './apache-forward-proxy-denied.js';
import apacheHtaccessDirectiveNotAllowed from './apache-htaccess-directive-not-allowed.js';
import apacheHtaccessIgnored from './apache-htaccess-ignored.js';
import apacheLegacyAccessControl from './apache-legacy-access-control.js';
import apacheLimitLeavesMethods from './apache-limit-leaves-methods.js';
import apacheLocationOverridesFilesDeny from './apache-location-overrides-files-deny.js';
import apacheMixedAccessSyntax from './apache-mixed-access-syntax.js';
import apacheNoIndexNoIndexes from './apache-no-index-no-indexes.js';
import apacheOptionsDropsFollowsymlinks from './apache-options-drops-followsymlinks.js';
import apacheRewriteWithoutFollowsymlinks from './apache-rewrite-without-followsymlinks.js';
import apacheSslrequiresslPlainHttp from './apache-sslrequiressl-plain-http.js';
import nginxAccessListReplaced from './nginx-access-list-replaced.js';
import nginxDenyAllRoot from './nginx-deny-all-root.js';
import nginxDirectoryIndexForbidden from './nginx-directory-index-forbidden.js';
import nginxHtpasswdMissing from './nginx-htpasswd-missing.js';
import nginxInvalidReferer403 from './nginx-invalid-referer-403.js';
import nginxLimitExceptDenies from './nginx-limit-except-denies.js';
import nginxMisleading403 from './nginx-misleading-403.js';
import nginxProxyCache403 from './nginx-proxy-cache-403.js';
import nginxReturn403Server from './nginx-return-403-server.js';
import nginxSatisfyAuthCombination from './nginx-satisfy-auth-combination.js';
import nginxSensitivePath403 from './nginx-sensitive-path-403.js';
import nginxShadowedAllow from './nginx-shadowed-allow.js';
import nginxShadowedDeny from './nginx-shadowed-deny.js';

export const rules: readonly Rule<string, object>[] = [
  apacheAuthmergingOffDropsDeny,
  apacheCgiWithoutExeccgi,
  apacheDeadAllowDeny,
  apacheDirectoryIndexForbidden,
  apacheDocrootDenied,
  apacheExplicitForbidden,
  apacheForwardProxyDenied,
  apacheHtaccessDirectiveNotAllowed,
  apacheHtaccessIgnored,
  apacheLegacyAccessControl,
  apacheLimitLeavesMethods,
  apacheLocationOverridesFilesDeny,
  apacheMixedAccessSyntax,
  apacheNoIndexNoIndexes,
  apacheOptionsDropsFollowsymlinks,
  apacheRewriteWithoutFollowsymlinks,
  apacheSslrequiresslPlainHttp,
  nginxAccessListReplaced,
  nginxDenyAllRoot,
  nginxDirectoryIndexForbidden,
  nginxHtpasswdMissing,
  nginxInvalidReferer403,
  nginxLimitExceptDenies,
  nginxMisleading403,
  nginxProxyCache403,
  nginxReturn403Server,
  nginxSatisfyAuthCombination,
  nginxSensitivePath403,
  nginxShadowedAllow,
  nginxShadowedDeny,
] as readonly Rule<string, object>[];
