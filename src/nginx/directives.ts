/**
 * The nginx directive table: for every directive of nginx 1.22.1 core and the modules Debian builds
 * (nginx-full's static modules and every libnginx-mod-* of the same source package, plus the
 * third-party modules nginx-full depends on: auth-pam, dav-ext, echo, geoip2, subs-filter,
 * upstream-fair), the contexts it is allowed in and the number of arguments it takes.
 *
 * The data was read out of the installed binaries themselves (`src/nginx/extract-directives.mjs`
 * walks each module's ngx_command_t array), so it is what `nginx -t` on Debian checks. As in
 * crossplane's analyzer, both facts are bitmasks:
 *  - context: why403's own bits (CTX below), translated from nginx's per-module-type bits;
 *  - type: nginx's low bits of ngx_command_t.type (NGX_CONF_NOARGS … NGX_CONF_2MORE, NGX_CONF_BLOCK).
 * A name that is not in the table is `unknown directive "x"` for nginx, which then refuses to start;
 * the parser reports it as an error with the closest known name (`did you mean "return"?`), except
 * for the directives a user declares (`settings.nginxDirectives`) and the namespaces of the
 * third-party modules Debian packages from other sources (THIRD_PARTY below), which need their own
 * `load_module` and are not checked.
 */
import { closestName } from '../suggest.js';

/** Contexts, one bit each. The names are what ParsedFile.context and LoadOptions.context use. */
export const CTX = {
  main: 0x1,
  events: 0x2,
  http: 0x4,
  server: 0x8,
  location: 0x10,
  upstream: 0x20,
  'server-if': 0x40,
  'location-if': 0x80,
  limit_except: 0x100,
  mail: 0x200,
  'mail-server': 0x400,
  stream: 0x800,
  'stream-server': 0x1000,
  'stream-upstream': 0x2000,
} as const;

export type NginxContext = keyof typeof CTX;

/** Block directives whose body nginx does not read as directives (a custom handler reads each
 * line as data: `types`, `map`, `geo`, …). Their bodies are parsed for syntax only. */
export const FREEFORM_BLOCKS = new Set(['types', 'map', 'geo', 'split_clients', 'charset_map', 'geoip2']);

// nginx's ngx_command_t.type argument bits (src/core/ngx_conf_file.h).
export const NGX_CONF_NOARGS = 0x1;
export const NGX_CONF_BLOCK = 0x100;
export const NGX_CONF_FLAG = 0x200;
export const NGX_CONF_ANY = 0x400;
export const NGX_CONF_1MORE = 0x800;
export const NGX_CONF_2MORE = 0x1000;
export const NGX_CONF_MAX_ARGS = 8;

export interface DirectiveSpec {
  /** Contexts (CTX bits) this variant is allowed in. */
  context: number;
  /** nginx argument/BLOCK bits. */
  type: number;
}

/** name, then one or more `contextHex:typeHex` variants (a name can belong to several modules). */
const TABLE = `
absolute_redirect 1c:200
accept_mutex 2:200
accept_mutex_delay 2:2
access_log 19c:800 1800:800
add_after_body 1c:2
add_before_body 1c:2
add_header 9c:c
add_trailer 9c:c
addition_types 1c:800
aio 1c:2
aio_write 1c:200
alias 10:2
allow 11c:2 1800:2
ancient_browser 1c:800
ancient_browser_value 1c:2
auth_basic 11c:2
auth_basic_user_file 11c:2
auth_delay 1c:2
auth_http 600:2
auth_http_header 600:4
auth_http_pass_client_cert 600:200
auth_http_timeout 600:2
auth_pam 11c:2
auth_pam_service_name 11c:2
auth_pam_set_pam_env 11c:200
auth_request 1c:2
auth_request_set 1c:4
autoindex 1c:200
autoindex_exact_size 1c:200
autoindex_format 1c:2
autoindex_localtime 1c:200
break d8:1
charset 9c:2
charset_map 4:104
charset_types 1c:800
chunked_transfer_encoding 1c:200
client_body_buffer_size 1c:2
client_body_in_file_only 1c:2
client_body_in_single_buffer 1c:200
client_body_temp_path 1c:1e
client_body_timeout 1c:2
client_header_buffer_size c:2
client_header_timeout c:2
client_max_body_size 1c:2
connection_pool_size c:2
create_full_put_path 1c:200
daemon 1:200
dav_access 1c:e
dav_ext_lock 1c:2
dav_ext_lock_zone 4:6
dav_ext_methods 1c:800
dav_methods 1c:800
debug_connection 2:2
debug_points 1:2
default_type 1c:2
deny 11c:2 1800:2
directio 1c:2
directio_alignment 1c:2
disable_symlinks 1c:6
echo 90:400
echo_abort_parent 90:1
echo_after_body 90:400
echo_before_body 90:400
echo_blocking_sleep 90:2
echo_duplicate 90:1000
echo_end 90:1
echo_exec 90:6
echo_flush 90:1
echo_foreach_split 90:1000
echo_location 90:6
echo_location_async 90:6
echo_read_request_body 90:1
echo_request_body 90:1
echo_reset_timer 90:1
echo_sleep 90:2
echo_status 90:2
echo_subrequest 90:1000
echo_subrequest_async 90:1000
empty_gif 10:1
env 1:2
epoll_events 2:2
error_log 1:800 1c:800 1800:800 600:800
error_page 9c:1000
etag 1c:200
events 1:101
expires 9c:6
fair 20:400
fastcgi_bind 1c:6
fastcgi_buffer_size 1c:2
fastcgi_buffering 1c:200
fastcgi_buffers 1c:4
fastcgi_busy_buffers_size 1c:2
fastcgi_cache 1c:2
fastcgi_cache_background_update 1c:200
fastcgi_cache_bypass 1c:800
fastcgi_cache_key 1c:2
fastcgi_cache_lock 1c:200
fastcgi_cache_lock_age 1c:2
fastcgi_cache_lock_timeout 1c:2
fastcgi_cache_max_range_offset 1c:2
fastcgi_cache_methods 1c:800
fastcgi_cache_min_uses 1c:2
fastcgi_cache_path 4:1000
fastcgi_cache_revalidate 1c:200
fastcgi_cache_use_stale 1c:800
fastcgi_cache_valid 1c:800
fastcgi_catch_stderr 1c:2
fastcgi_connect_timeout 1c:2
fastcgi_force_ranges 1c:200
fastcgi_hide_header 1c:2
fastcgi_ignore_client_abort 1c:200
fastcgi_ignore_headers 1c:800
fastcgi_index 1c:2
fastcgi_intercept_errors 1c:200
fastcgi_keep_conn 1c:200
fastcgi_limit_rate 1c:2
fastcgi_max_temp_file_size 1c:2
fastcgi_next_upstream 1c:800
fastcgi_next_upstream_timeout 1c:2
fastcgi_next_upstream_tries 1c:2
fastcgi_no_cache 1c:800
fastcgi_param 1c:c
fastcgi_pass 90:2
fastcgi_pass_header 1c:2
fastcgi_pass_request_body 1c:200
fastcgi_pass_request_headers 1c:200
fastcgi_read_timeout 1c:2
fastcgi_request_buffering 1c:200
fastcgi_send_lowat 1c:2
fastcgi_send_timeout 1c:2
fastcgi_socket_keepalive 1c:200
fastcgi_split_path_info 1c:2
fastcgi_store 1c:2
fastcgi_store_access 1c:e
fastcgi_temp_file_write_size 1c:2
fastcgi_temp_path 1c:1e
flv 10:1
geo 4:106 800:106
geoip2 4:102 800:102
geoip2_proxy 4:2
geoip2_proxy_recursive 4:200
geoip_city 4:6 800:6
geoip_country 4:6 800:6
geoip_org 4:6 800:6
geoip_proxy 4:2
geoip_proxy_recursive 4:200
grpc_bind 1c:6
grpc_buffer_size 1c:2
grpc_connect_timeout 1c:2
grpc_hide_header 1c:2
grpc_ignore_headers 1c:800
grpc_intercept_errors 1c:200
grpc_next_upstream 1c:800
grpc_next_upstream_timeout 1c:2
grpc_next_upstream_tries 1c:2
grpc_pass 90:2
grpc_pass_header 1c:2
grpc_read_timeout 1c:2
grpc_send_timeout 1c:2
grpc_set_header 1c:4
grpc_socket_keepalive 1c:200
grpc_ssl_certificate 1c:2
grpc_ssl_certificate_key 1c:2
grpc_ssl_ciphers 1c:2
grpc_ssl_conf_command 1c:4
grpc_ssl_crl 1c:2
grpc_ssl_name 1c:2
grpc_ssl_password_file 1c:2
grpc_ssl_protocols 1c:800
grpc_ssl_server_name 1c:200
grpc_ssl_session_reuse 1c:200
grpc_ssl_trusted_certificate 1c:2
grpc_ssl_verify 1c:200
grpc_ssl_verify_depth 1c:2
gunzip 1c:200
gunzip_buffers 1c:4
gzip 9c:200
gzip_buffers 1c:4
gzip_comp_level 1c:2
gzip_disable 1c:800
gzip_hash 1c:2
gzip_http_version 1c:2
gzip_min_length 1c:2
gzip_no_buffer 1c:200
gzip_proxied 1c:800
gzip_static 1c:2
gzip_types 1c:800
gzip_vary 1c:200
gzip_window 1c:2
hash 20:6 2000:6
http 1:101
http2_body_preread_size c:2
http2_chunk_size 1c:2
http2_idle_timeout c:2
http2_max_concurrent_pushes c:2
http2_max_concurrent_streams c:2
http2_max_field_size c:2
http2_max_header_size c:2
http2_max_requests c:2
http2_pool_size c:2
http2_push 1c:2
http2_push_preload 1c:200
http2_recv_buffer_size 4:2
http2_recv_timeout c:2
http2_streams_index_size c:2
if 18:900
if_modified_since 1c:2
ignore_invalid_headers c:200
image_filter 10:e
image_filter_buffer 1c:2
image_filter_interlace 1c:200
image_filter_jpeg_quality 1c:2
image_filter_sharpen 1c:2
image_filter_transparency 1c:200
image_filter_webp_quality 1c:2
imap_auth 600:800
imap_capabilities 600:800
imap_client_buffer 600:2
include 3fff:2
index 1c:800
internal 10:1
ip_hash 20:1
keepalive 20:2
keepalive_disable 1c:6
keepalive_requests 1c:2 20:2
keepalive_time 1c:2 20:2
keepalive_timeout 1c:6 20:2
large_client_header_buffers c:4
least_conn 20:1 2000:1
limit_conn 1c:4 1800:4
limit_conn_dry_run 1c:200 1800:200
limit_conn_log_level 1c:2 1800:2
limit_conn_status 1c:2
limit_conn_zone 4:4 800:4
limit_except 10:900
limit_rate 9c:2
limit_rate_after 9c:2
limit_req 1c:e
limit_req_dry_run 1c:200
limit_req_log_level 1c:2
limit_req_status 1c:2
limit_req_zone 4:8
lingering_close 1c:2
lingering_time 1c:2
lingering_timeout 1c:2
listen 8:800 1000:800 400:800
load_module 1:2
location 18:106
lock_file 1:2
log_format 4:1000 800:1000
log_not_found 1c:200
log_subrequest 1c:200
mail 1:101
map 4:104 800:104
map_hash_bucket_size 4:2 800:2
map_hash_max_size 4:2 800:2
master_process 1:200
max_errors 600:2
max_headers c:2
max_ranges 1c:2
memcached_bind 1c:6
memcached_buffer_size 1c:2
memcached_connect_timeout 1c:2
memcached_gzip_flag 1c:2
memcached_next_upstream 1c:800
memcached_next_upstream_timeout 1c:2
memcached_next_upstream_tries 1c:2
memcached_pass 90:2
memcached_read_timeout 1c:2
memcached_send_timeout 1c:2
memcached_socket_keepalive 1c:200
merge_slashes c:200
min_delete_depth 1c:2
mirror 1c:2
mirror_request_body 1c:200
modern_browser 1c:6
modern_browser_value 1c:2
mp4 10:1
mp4_buffer_size 1c:2
mp4_max_buffer_size 1c:2
mp4_start_key_frame 1c:200
msie_padding 1c:200
msie_refresh 1c:200
multi_accept 2:200
open_file_cache 1c:6
open_file_cache_errors 1c:200
open_file_cache_events 1c:200
open_file_cache_min_uses 1c:2
open_file_cache_valid 1c:2
open_log_file_cache 1c:1e 1800:1e
output_buffers 1c:4
override_charset 9c:200
pcre_jit 1:200
perl 110:2
perl_modules 4:2
perl_require 4:2
perl_set 4:4
pid 1:2
pop3_auth 600:800
pop3_capabilities 600:800
port_in_redirect 1c:200
post_action 9c:2
postpone_gzipping 1c:2
postpone_output 1c:2
preread_buffer_size 1800:2
preread_timeout 1800:2
protocol 400:2
proxy 600:200
proxy_bind 1c:6 1800:6
proxy_buffer 600:2
proxy_buffer_size 1c:2 1800:2
proxy_buffering 1c:200
proxy_buffers 1c:4
proxy_busy_buffers_size 1c:2
proxy_cache 1c:2
proxy_cache_background_update 1c:200
proxy_cache_bypass 1c:800
proxy_cache_convert_head 1c:200
proxy_cache_key 1c:2
proxy_cache_lock 1c:200
proxy_cache_lock_age 1c:2
proxy_cache_lock_timeout 1c:2
proxy_cache_max_range_offset 1c:2
proxy_cache_methods 1c:800
proxy_cache_min_uses 1c:2
proxy_cache_path 4:1000
proxy_cache_revalidate 1c:200
proxy_cache_use_stale 1c:800
proxy_cache_valid 1c:800
proxy_connect_timeout 1c:2 1800:2
proxy_cookie_domain 1c:6
proxy_cookie_flags 1c:1e
proxy_cookie_path 1c:6
proxy_download_rate 1800:2
proxy_downstream_buffer 1800:2
proxy_force_ranges 1c:200
proxy_half_close 1800:200
proxy_headers_hash_bucket_size 1c:2
proxy_headers_hash_max_size 1c:2
proxy_hide_header 1c:2
proxy_http_version 1c:2
proxy_ignore_client_abort 1c:200
proxy_ignore_headers 1c:800
proxy_intercept_errors 1c:200
proxy_limit_rate 1c:2
proxy_max_temp_file_size 1c:2
proxy_method 1c:2
proxy_next_upstream 1c:800 1800:200
proxy_next_upstream_timeout 1c:2 1800:2
proxy_next_upstream_tries 1c:2 1800:2
proxy_no_cache 1c:800
proxy_pass 190:2 1000:2
proxy_pass_error_message 600:200
proxy_pass_header 1c:2
proxy_pass_request_body 1c:200
proxy_pass_request_headers 1c:200
proxy_protocol 1800:200 600:200
proxy_protocol_timeout 1800:2
proxy_read_timeout 1c:2
proxy_redirect 1c:6
proxy_request_buffering 1c:200
proxy_requests 1800:2
proxy_responses 1800:2
proxy_send_lowat 1c:2
proxy_send_timeout 1c:2
proxy_set_body 1c:2
proxy_set_header 1c:4
proxy_smtp_auth 600:200
proxy_socket_keepalive 1c:200 1800:200
proxy_ssl 1800:200
proxy_ssl_certificate 1c:2 1800:2
proxy_ssl_certificate_key 1c:2 1800:2
proxy_ssl_ciphers 1c:2 1800:2
proxy_ssl_conf_command 1c:4 1800:4
proxy_ssl_crl 1c:2 1800:2
proxy_ssl_name 1c:2 1800:2
proxy_ssl_password_file 1c:2 1800:2
proxy_ssl_protocols 1c:800 1800:800
proxy_ssl_server_name 1c:200 1800:200
proxy_ssl_session_reuse 1c:200 1800:200
proxy_ssl_trusted_certificate 1c:2 1800:2
proxy_ssl_verify 1c:200 1800:200
proxy_ssl_verify_depth 1c:2 1800:2
proxy_store 1c:2
proxy_store_access 1c:e
proxy_temp_file_write_size 1c:2
proxy_temp_path 1c:1e
proxy_timeout 1800:2 600:2
proxy_upload_rate 1800:2
proxy_upstream_buffer 1800:2
random 20:7 2000:7
random_index 10:200
read_ahead 1c:2
real_ip_header 1c:2
real_ip_recursive 1c:200
recursive_error_pages 1c:200
referer_hash_bucket_size 18:2
referer_hash_max_size 18:2
request_pool_size c:2
reset_timedout_connection 1c:200
resolver 1c:800 1800:800 600:800
resolver_timeout 1c:2 1800:2 600:2
return d8:6 1000:2
rewrite d8:c
rewrite_log dc:200
root 9c:2
satisfy 1c:2
scgi_bind 1c:6
scgi_buffer_size 1c:2
scgi_buffering 1c:200
scgi_buffers 1c:4
scgi_busy_buffers_size 1c:2
scgi_cache 1c:2
scgi_cache_background_update 1c:200
scgi_cache_bypass 1c:800
scgi_cache_key 1c:2
scgi_cache_lock 1c:200
scgi_cache_lock_age 1c:2
scgi_cache_lock_timeout 1c:2
scgi_cache_max_range_offset 1c:2
scgi_cache_methods 1c:800
scgi_cache_min_uses 1c:2
scgi_cache_path 4:1000
scgi_cache_revalidate 1c:200
scgi_cache_use_stale 1c:800
scgi_cache_valid 1c:800
scgi_connect_timeout 1c:2
scgi_force_ranges 1c:200
scgi_hide_header 1c:2
scgi_ignore_client_abort 1c:200
scgi_ignore_headers 1c:800
scgi_intercept_errors 1c:200
scgi_limit_rate 1c:2
scgi_max_temp_file_size 1c:2
scgi_next_upstream 1c:800
scgi_next_upstream_timeout 1c:2
scgi_next_upstream_tries 1c:2
scgi_no_cache 1c:800
scgi_param 1c:c
scgi_pass 90:2
scgi_pass_header 1c:2
scgi_pass_request_body 1c:200
scgi_pass_request_headers 1c:200
scgi_read_timeout 1c:2
scgi_request_buffering 1c:200
scgi_send_timeout 1c:2
scgi_socket_keepalive 1c:200
scgi_store 1c:2
scgi_store_access 1c:e
scgi_temp_file_write_size 1c:2
scgi_temp_path 1c:1e
secure_link 1c:2
secure_link_md5 1c:2
secure_link_secret 1c:2
send_lowat 1c:2
send_timeout 1c:2
sendfile 9c:200
sendfile_max_chunk 1c:2
server 4:101 20:800 800:101 2000:800 200:101
server_name 8:800 600:2
server_name_in_redirect 1c:200
server_names_hash_bucket_size 4:2
server_names_hash_max_size 4:2
server_tokens 1c:2
set d8:4 1000:4
set_real_ip_from 1c:2 1800:2 600:2
slice 1c:2
smtp_auth 600:800
smtp_capabilities 600:800
smtp_client_buffer 600:2
smtp_greeting_delay 600:2
source_charset 9c:2
split_clients 4:104 800:104
ssi 9c:200
ssi_ignore_recycled_buffers 1c:200
ssi_last_modified 1c:200
ssi_min_file_chunk 1c:2
ssi_silent_errors 1c:200
ssi_types 1c:800
ssi_value_length 1c:2
ssl c:200 600:200
ssl_alpn 1800:800
ssl_buffer_size c:2
ssl_certificate c:2 1800:2 600:2
ssl_certificate_key c:2 1800:2 600:2
ssl_ciphers c:2 1800:2 600:2
ssl_client_certificate c:2 1800:2 600:2
ssl_conf_command c:4 1800:4 600:4
ssl_crl c:2 1800:2 600:2
ssl_dhparam c:2 1800:2 600:2
ssl_early_data c:200
ssl_ecdh_curve c:2 1800:2 600:2
ssl_engine 1:2
ssl_handshake_timeout 1800:2
ssl_ocsp c:200
ssl_ocsp_cache c:2
ssl_ocsp_responder c:2
ssl_password_file c:2 1800:2 600:2
ssl_prefer_server_ciphers c:200 1800:200 600:200
ssl_preread 1800:200
ssl_protocols c:800 1800:800 600:800
ssl_reject_handshake c:200
ssl_session_cache c:6 1800:6 600:6
ssl_session_ticket_key c:2 1800:2 600:2
ssl_session_tickets c:200 1800:200 600:200
ssl_session_timeout c:2 1800:2 600:2
ssl_stapling c:200
ssl_stapling_file c:2
ssl_stapling_responder c:2
ssl_stapling_verify c:200
ssl_trusted_certificate c:2 1800:2 600:2
ssl_verify_client c:2 1800:2 600:2
ssl_verify_depth c:2 1800:2 600:2
starttls 600:2
stream 1:101
stub_status 18:3
sub_filter 1c:4
sub_filter_last_modified 1c:200
sub_filter_once 1c:200
sub_filter_types 1c:800
subrequest_output_buffer_size 1c:2
subs_buffers 1c:4
subs_filter 1c:1000
subs_filter_bypass 1c:800
subs_filter_types 1c:800
subs_line_buffer_size 1c:4
tcp_nodelay 1c:200 1800:200
tcp_nopush 1c:200
thread_pool 1:c
timeout 600:2
timer_resolution 1:2
try_files 18:1000
types 1c:101
types_hash_bucket_size 1c:2
types_hash_max_size 1c:2
underscores_in_headers c:200
uninitialized_variable_warn dc:200
upstream 4:102 800:102
upstream_fair_shm_size 4:2
use 2:2
user 1:6
userid 1c:2
userid_domain 1c:2
userid_expires 1c:2
userid_flags 1c:e
userid_mark 1c:2
userid_name 1c:2
userid_p3p 1c:2
userid_path 1c:2
userid_service 1c:2
uwsgi_bind 1c:6
uwsgi_buffer_size 1c:2
uwsgi_buffering 1c:200
uwsgi_buffers 1c:4
uwsgi_busy_buffers_size 1c:2
uwsgi_cache 1c:2
uwsgi_cache_background_update 1c:2
uwsgi_cache_bypass 1c:800
uwsgi_cache_key 1c:2
uwsgi_cache_lock 1c:200
uwsgi_cache_lock_age 1c:2
uwsgi_cache_lock_timeout 1c:2
uwsgi_cache_max_range_offset 1c:2
uwsgi_cache_methods 1c:800
uwsgi_cache_min_uses 1c:2
uwsgi_cache_path 4:1000
uwsgi_cache_revalidate 1c:200
uwsgi_cache_use_stale 1c:800
uwsgi_cache_valid 1c:800
uwsgi_connect_timeout 1c:2
uwsgi_force_ranges 1c:200
uwsgi_hide_header 1c:2
uwsgi_ignore_client_abort 1c:200
uwsgi_ignore_headers 1c:800
uwsgi_intercept_errors 1c:200
uwsgi_limit_rate 1c:2
uwsgi_max_temp_file_size 1c:2
uwsgi_modifier1 1c:2
uwsgi_modifier2 1c:2
uwsgi_next_upstream 1c:800
uwsgi_next_upstream_timeout 1c:2
uwsgi_next_upstream_tries 1c:2
uwsgi_no_cache 1c:800
uwsgi_param 1c:c
uwsgi_pass 90:2
uwsgi_pass_header 1c:2
uwsgi_pass_request_body 1c:200
uwsgi_pass_request_headers 1c:200
uwsgi_read_timeout 1c:2
uwsgi_request_buffering 1c:200
uwsgi_send_timeout 1c:2
uwsgi_socket_keepalive 1c:200
uwsgi_ssl_certificate 1c:2
uwsgi_ssl_certificate_key 1c:2
uwsgi_ssl_ciphers 1c:2
uwsgi_ssl_conf_command 1c:4
uwsgi_ssl_crl 1c:2
uwsgi_ssl_name 1c:2
uwsgi_ssl_password_file 1c:2
uwsgi_ssl_protocols 1c:800
uwsgi_ssl_server_name 1c:200
uwsgi_ssl_session_reuse 1c:200
uwsgi_ssl_trusted_certificate 1c:2
uwsgi_ssl_verify 1c:200
uwsgi_ssl_verify_depth 1c:2
uwsgi_store 1c:2
uwsgi_store_access 1c:e
uwsgi_string 1c:2
uwsgi_temp_file_write_size 1c:2
uwsgi_temp_path 1c:1e
valid_referers 18:800
variables_hash_bucket_size 4:2 800:2
variables_hash_max_size 4:2 800:2
worker_aio_requests 2:2
worker_connections 2:2
worker_cpu_affinity 1:800
worker_priority 1:2
worker_processes 1:2
worker_rlimit_core 1:2
worker_rlimit_nofile 1:2
worker_shutdown_timeout 1:2
working_directory 1:2
xclient 600:200
xml_entities 1c:2
xslt_last_modified 1c:200
xslt_param 1c:4
xslt_string_param 1c:4
xslt_stylesheet 10:800
xslt_types 1c:800
zone 20:6 2000:6`;

let parsed: Map<string, DirectiveSpec[]> | null = null;

function specsAt(line: string): DirectiveSpec[] {
  const parts = line.split(' ');
  const specs: DirectiveSpec[] = [];
  for (let i = 1; i < parts.length; i++) {
    const [c, t] = parts[i].split(':');
    specs.push({ context: parseInt(c, 16), type: parseInt(t, 16) });
  }
  return specs;
}

/** One name's line of the table (its own string and variants), found when first asked for: a small
 * file names a few dozen directives, and parsing all ~700 lines cost a cold start ~2 %. */
interface Entry {
  name: string;
  specs: DirectiveSpec[];
}
const entries = new Map<string, Entry | null>();

function entry(name: string): Entry | null {
  let e = entries.get(name);
  if (e === undefined) {
    const at = /\s/.test(name) ? -1 : TABLE.indexOf(`\n${name} `);
    if (at < 0) e = null;
    else {
      const end = TABLE.indexOf('\n', at + 1);
      const line = TABLE.slice(at + 1, end < 0 ? TABLE.length : end);
      e = { name: line.slice(0, name.length), specs: parsed?.get(name) ?? specsAt(line) };
    }
    entries.set(name, e);
  }
  return e;
}

/** The table as a map from directive name to its variants (in nginx's module order). */
export function directiveTable(): Map<string, DirectiveSpec[]> {
  if (parsed) return parsed;
  const m = new Map<string, DirectiveSpec[]>();
  for (const line of TABLE.split('\n')) {
    if (!line) continue;
    const name = line.slice(0, line.indexOf(' '));
    m.set(name, entries.get(name)?.specs ?? specsAt(line));
  }
  parsed = m;
  return m;
}

/** The table's own string for a known name (one shared string instead of one per occurrence). */
export function canonicalName(name: string): string {
  return entry(name)?.name ?? name;
}

export function lookupDirective(name: string): DirectiveSpec[] | undefined {
  return entry(name)?.specs;
}

export function isKnownDirective(name: string): boolean {
  return entry(name) !== null;
}

/** The variant of `name` allowed in `ctx` (a CTX bit), as nginx picks it: the first in module order. */
export function specIn(name: string, ctx: number): DirectiveSpec | undefined {
  const specs = entry(name)?.specs;
  if (!specs) return undefined;
  for (const s of specs) if (s.context & ctx) return s;
  return undefined;
}

/** Whether `n` arguments satisfy nginx's arity bits (ngx_conf_handler's checks, in its order). */
export function arityOk(type: number, n: number): boolean {
  if (type & NGX_CONF_ANY) return true;
  if (type & NGX_CONF_FLAG) return n === 1;
  if (type & NGX_CONF_1MORE) return n >= 1;
  if (type & NGX_CONF_2MORE) return n >= 2;
  if (n > NGX_CONF_MAX_ARGS - 1) return false;
  return (type & (1 << n)) !== 0;
}

/** `*_by_lua_block` directives (ngx_lua, ngx_stream_lua): their `{ }` body is Lua, taken raw. */
export function isLuaBlock(name: string): boolean {
  return name.endsWith('_by_lua_block') || name === 'lua_block';
}

/**
 * The context a block directive opens, given the context it stands in; null when its body is not
 * made of directives (free-form blocks) or the directive is not a known block here.
 */
export function childContext(name: string, ctx: NginxContext): NginxContext | 'freeform' | null {
  if (FREEFORM_BLOCKS.has(name)) return 'freeform';
  switch (name) {
    case 'events':
      return ctx === 'main' ? 'events' : null;
    case 'http':
      return ctx === 'main' ? 'http' : null;
    case 'mail':
      return ctx === 'main' ? 'mail' : null;
    case 'stream':
      return ctx === 'main' ? 'stream' : null;
    case 'server':
      return ctx === 'http' ? 'server' : ctx === 'mail' ? 'mail-server' : ctx === 'stream' ? 'stream-server' : null;
    case 'location':
      return ctx === 'server' || ctx === 'location' ? 'location' : null;
    case 'upstream':
      return ctx === 'http' ? 'upstream' : ctx === 'stream' ? 'stream-upstream' : null;
    case 'if':
      return ctx === 'server' ? 'server-if' : ctx === 'location' ? 'location-if' : null;
    case 'limit_except':
      return ctx === 'location' ? 'limit_except' : null;
    default:
      return null;
  }
}

const CONTEXT_ALIASES: Record<string, NginxContext> = {
  main: 'main',
  events: 'events',
  http: 'http',
  server: 'server',
  location: 'location',
  upstream: 'upstream',
  if: 'location-if',
  'server-if': 'server-if',
  'location-if': 'location-if',
  'limit-except': 'limit_except',
  limit_except: 'limit_except',
  mail: 'mail',
  'mail-server': 'mail-server',
  stream: 'stream',
  'stream-server': 'stream-server',
  'stream-upstream': 'stream-upstream',
};

/** Accepts the context names of LoadOptions.context (and a few aliases). */
export function normalizeContext(name: string | undefined): NginxContext | null {
  if (!name) return null;
  const direct = CONTEXT_ALIASES[name];
  if (direct !== undefined && Object.prototype.hasOwnProperty.call(CONTEXT_ALIASES, name)) return direct;
  const n = name.trim().toLowerCase().replace(/_/g, '-');
  return Object.prototype.hasOwnProperty.call(CONTEXT_ALIASES, n) ? CONTEXT_ALIASES[n] : null;
}

/**
 * Directives of third-party modules that Debian packages as libnginx-mod-* from their own sources
 * (not in the table: their binaries are not part of nginx-full): headers-more (`more_*`), lua and
 * stream-lua (`lua_*`, `*_by_lua`, `*_by_lua_block`, `*_by_lua_file`), brotli (`brotli*`), njs
 * (`js_*`), the NDK (`ndk_*`) and set-misc/encrypted-session (`set_*`, `encrypted_session_*`).
 * nginx knows them once their module is loaded; why403 takes them as known and does not check them.
 */
const THIRD_PARTY = /^(more_|lua_|brotli|js_|ndk_|set_|encrypted_session_)|_by_lua(_block|_file)?$/;

/** True for a name of a third-party module namespace why403 accepts without checking (see THIRD_PARTY). */
export function isThirdPartyDirective(name: string): boolean {
  return THIRD_PARTY.test(name);
}

/** The known directive closest to an unknown `name` (edit distance), or null. */
export function suggestNginxDirective(name: string, extra: readonly string[] = []): string | null {
  return closestName(name, [...directiveTable().keys(), ...extra]);
}

/** nginx's words for an unknown directive, a suggestion, and how to declare a third-party one. */
export function unknownNginxMessage(name: string, extra: readonly string[] = []): string {
  const guess = suggestNginxDirective(name, extra);
  return (
    `unknown directive "${name}"` +
    (guess ? `: did you mean "${guess}"?` : '') +
    ` (nginx refuses to start; if it comes from a module why403 does not know, add it to settings.nginxDirectives in .why403.json)`
  );
}
