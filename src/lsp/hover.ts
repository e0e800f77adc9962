/**
 * Hover on an nginx `server`/`location`/`if`/`limit_except` block, an Apache `<Directory>`,
 * `<Location>`, `<Files>`, `<VirtualHost>`… section, or an access directive: what the model knows
 * there. nginx: the allow/deny list in force after inheritance (and where it comes from), satisfy and
 * auth. Both: who gets 403/401 there in `why403 map`'s words, with a request explain shows to get it
 * (and, without --fs, the files that must exist for it: an error page, e.g. "→ 403 if file
 * /srv/www/errors/403.html is a file") and links to the deciding lines (Apache: the sections merged on
 * the way, from the proof's trace).
 */
import type { Directive, Node, ParsedFile } from '../ast.js';
import type { Tree } from './workspace.js';
import { pathToUri } from './workspace.js';

const NGINX_BLOCKS = new Set(['server', 'location', 'if', 'limit_except']);
const NGINX_ACCESS = new Set(['allow', 'deny', 'return', 'satisfy', 'auth_basic', 'auth_basic_user_file', 'auth_request']);
const APACHE_SECTIONS = new Set([
  'directory',
  'directorymatch',
  'location',
  'locationmatch',
  'files',
  'filesmatch',
  'virtualhost',
  'proxy',
  'proxymatch',
  'limit',
  'limitexcept',
]);
const APACHE_ACCESS = new Set([
  'require',
  'allow',
  'deny',
  'order',
  'satisfy',
  'authtype',
  'authname',
  'authuserfile',
  'requireall',
  'requireany',
  'requirenone',
  'sslrequiressl',
  'rewriterule',
  'redirect',
  'redirectmatch',
  'allowoverride',
  'options',
]);
/** The most map entries one hover lists (a server block may hold hundreds of locations). */
const MAX_ENTRIES = 8;

const apacheKey = (d: Directive) => d.key.replace(/^</, '').toLowerCase();

/** The directives containing `offset`, outermost first. */
export function directivesAt(file: ParsedFile, offset: number): Directive[] {
  const chain: Directive[] = [];
  let list: Node[] | null = file.nodes;
  while (list) {
    const hit: Directive | undefined = list.find(
      (n): n is Directive => n.type === 'directive' && n.span.start.offset <= offset && offset <= n.span.end.offset,
    );
    if (!hit) break;
    chain.push(hit);
    list = hit.block;
  }
  return chain;
}

function link(file: string, line: number, cwd: string): string {
  const shown = file.startsWith(cwd + '/') ? file.slice(cwd.length + 1) : file;
  return `[${shown}:${line}](${pathToUri(file)}#L${line})`;
}

const code = (s: string) => '`' + s.replace(/`/g, "'") + '`';

export async function hoverText(tree: Tree, file: ParsedFile, offset: number, cwd: string): Promise<string | null> {
  const chain = directivesAt(file, offset);
  if (!chain.length) return null;
  return tree.set.server === 'nginx' ? nginxHover(tree, chain, cwd) : apacheHover(tree, chain, cwd);
}

async function mapWithin(tree: Tree, block: Directive) {
  const { mapConfig } = await import('../map/index.js');
  return mapConfig(tree.set, {
    settings: tree.settings,
    ...tree.modelOptions,
    within: { file: block.source.path, start: block.span.start.offset, end: block.span.end.offset },
    // a sample whose status rests on files existing is shown with that condition
    assumeDisk: true,
  }).entries;
}

function entryLines(entries: Awaited<ReturnType<typeof mapWithin>>, cwd: string): string[] {
  const out: string[] = [];
  for (const e of entries.slice(0, MAX_ENTRIES)) {
    const where = e.scope.length ? e.scope[e.scope.length - 1] : '(server)';
    const sample = e.sample
      ? `e.g. ${code(`${e.sample.method} ${e.sample.url}`)} from ${e.sample.ip} → ${e.status}${e.assumes ? ` if ${e.assumes.join(' and ')}` : ''}${
          e.explainedOn?.config
            ? ` (through ${link(e.explainedOn.config, 1, cwd)}${e.explainedOn.htaccess ? ', `why403 explain … --htaccess`' : ''})`
            : e.explainedOn?.htaccess
              ? ' (with the .htaccess files on the way: `why403 explain … --htaccess`)'
              : ''
        }`
      : `no sample: ${e.note ?? 'conditional'}`;
    out.push(`- **${e.status}** ${code(e.directive)} (${link(e.file, e.line, cwd)}, ${code(where)}): ${e.who.text}; ${sample}`);
  }
  if (entries.length > MAX_ENTRIES) out.push(`- … and ${entries.length - MAX_ENTRIES} more (\`why403 map\` lists them all)`);
  return out;
}

async function nginxHover(tree: Tree, chain: Directive[], cwd: string): Promise<string | null> {
  let i = chain.length - 1;
  while (i >= 0 && !(NGINX_BLOCKS.has(chain[i].name) && chain[i].block) && !NGINX_ACCESS.has(chain[i].name)) i--;
  if (i < 0) return null;
  let block: Directive | null = chain[i];
  if (!(NGINX_BLOCKS.has(block.name) && block.block)) {
    block = null;
    for (let j = i - 1; j >= 0; j--)
      if (chain[j].block) {
        block = chain[j];
        break;
      }
  }
  const { modelFor } = await import('../model/index.js');
  const { scopeChain } = await import('../map/index.js');
  const m = modelFor(tree.set, { settings: tree.settings, ...tree.modelOptions });
  if (m.server !== 'nginx') return null;
  const scope = block ? m.scopes().find((s) => s.block === block) : m.tree.http;
  if (!scope) return null;
  const out: string[] = [];
  const label = scopeChain(scope);
  out.push(`**why403** · ${label.length ? label.map(code).join(' › ') : code('http')}`);
  const st = m.settingsAt(scope);
  const acc = st.access;
  out.push('');
  if (acc.directives.length) {
    const from = acc.from === scope ? 'set here' : `inherited from ${code(acc.from ? (scopeChain(acc.from).at(-1) ?? 'http') : 'http')}`;
    out.push(`Access after inheritance (${from}), first match wins:`);
    for (const d of acc.directives)
      out.push(`- ${code(d.name + ' ' + d.args.map((a) => a.raw).join(' '))} ${link(d.source.path, d.span.start.line, cwd)}`);
  } else {
    out.push('Access after inheritance: no allow/deny in force (every address passes this phase).');
  }
  const extra: string[] = [`satisfy ${st.satisfy.value}`];
  if (st.authBasic.value !== null) extra.push(`auth_basic "${st.authBasic.value}"`);
  if (st.authRequest.value !== null) extra.push(`auth_request ${st.authRequest.value}`);
  out.push('', extra.join(' · '));
  if (block) {
    const entries = await mapWithin(tree, block);
    out.push('');
    if (entries.length) {
      out.push('Who gets 403 here (`why403 map`):');
      out.push(...entryLines(entries, cwd));
    } else out.push('Nothing in this block answers 403 or 401 itself (`why403 map`).');
  }
  return out.join('\n');
}

async function apacheHover(tree: Tree, chain: Directive[], cwd: string): Promise<string | null> {
  let i = chain.length - 1;
  while (i >= 0 && !APACHE_SECTIONS.has(apacheKey(chain[i])) && !APACHE_ACCESS.has(apacheKey(chain[i]))) i--;
  if (i < 0) return null;
  let section: Directive | null = chain[i];
  if (!APACHE_SECTIONS.has(apacheKey(section))) {
    section = null;
    for (let j = i - 1; j >= 0; j--)
      if (APACHE_SECTIONS.has(apacheKey(chain[j]))) {
        section = chain[j];
        break;
      }
  }
  const out: string[] = [];
  const where = section
    ? `<${section.name} ${section.args.map((a) => a.raw).join(' ')}>`
    : tree.set.root.context === 'htaccess'
      ? '.htaccess'
      : 'server config';
  out.push(`**why403** · ${code(where)}`);
  const scopeNodes = section ? (section.block ?? []) : (tree.set.files.get(chain[0].source.path)?.nodes ?? []);
  const access: Directive[] = [];
  const visit = (nodes: Node[]) => {
    for (const n of nodes) {
      if (n.type !== 'directive') continue;
      if (APACHE_SECTIONS.has(apacheKey(n)) && n !== section) continue;
      if (APACHE_ACCESS.has(apacheKey(n))) access.push(n);
      if (n.block) visit(n.block);
    }
  };
  visit(scopeNodes);
  if (access.length) {
    out.push('', 'Access directives here:');
    for (const d of access.slice(0, 20))
      out.push(`- ${code(d.name + ' ' + d.args.map((a) => a.raw).join(' '))} ${link(d.source.path, d.span.start.line, cwd)}`);
  }
  const range = section ?? null;
  const entries = range
    ? await mapWithin(tree, range)
    : (await import('../map/index.js'))
        .mapConfig(tree.set, { settings: tree.settings, ...tree.modelOptions, assumeDisk: true })
        .entries.filter((e) => e.file === chain[0].source.path);
  out.push('');
  if (entries.length) {
    out.push('Who gets 403 here (`why403 map`):');
    out.push(...entryLines(entries, cwd));
    // the merge after inheritance, as explain walks it for the first sample: the sections applied in
    // order (directory walk, location walk) and the access checks, each with its line
    const withTrace = entries.find((e) => e.trace?.length);
    if (withTrace?.trace) {
      out.push('', `After inheritance, for ${code(`${withTrace.sample?.method} ${withTrace.sample?.url}`)} from ${withTrace.sample?.ip}:`);
      for (const t of withTrace.trace.slice(0, 16)) out.push(`- ${link(t.file, t.line, cwd)} ${t.message}`);
      if (withTrace.trace.length > 16) out.push(`- … (${withTrace.trace.length - 16} more steps: \`why403 explain\`)`);
    }
  } else out.push('Nothing here answers 403 or 401 (`why403 map`).');
  return out.join('\n');
}
