/** Every rule, sorted by id. A test fails when a rule file is missing here or out of order. */
import type { Rule } from '../src/rule.js';
import apacheDeadAllowDeny from './apache-dead-allow-deny.js';
import apacheDocrootDenied from './apache-docroot-denied.js';
import apacheExplicitForbidden from './apache-explicit-forbidden.js';
import apacheHtaccessDirectiveNotAllowed from './apache-htaccess-directive-not-allowed.js';
import apacheHtaccessIgnored from './apache-htaccess-ignored.js';
import apacheLegacyAccessControl from './apache-legacy-access-control.js';
import apacheLocationOverridesFilesDeny from './apache-location-overrides-files-deny.js';
import apacheMixedAccessSyntax from './apache-mixed-access-syntax.js';
import apacheRewriteWithoutFollowsymlinks from './apache-rewrite-without-followsymlinks.js';
import nginxReturn403Server from './nginx-return-403-server.js';

export const rules: readonly Rule<string, object>[] = [
  apacheDeadAllowDeny,
  apacheDocrootDenied,
  apacheExplicitForbidden,
  apacheHtaccessDirectiveNotAllowed,
  apacheHtaccessIgnored,
  apacheLegacyAccessControl,
  apacheLocationOverridesFilesDeny,
  apacheMixedAccessSyntax,
  apacheRewriteWithoutFollowsymlinks,
  nginxReturn403Server,
] as readonly Rule<string, object>[];
