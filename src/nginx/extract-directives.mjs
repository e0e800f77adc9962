#!/usr/bin/env node
/**
 * Dev tool (not shipped): reads the directive tables out of installed nginx binaries and dynamic
 * modules (x86-64 ELF, as Debian builds them) and prints them as JSON lines:
 *   {"file": "...", "moduleType": "HTTP", "name": "allow", "type": 4026531842}
 *
 * Every nginx module is an `ngx_module_t` whose `version` field (offset 40) holds nginx_version
 * (1022001 for 1.22.1) and whose `commands` (offset 64) points at an array of `ngx_command_t`
 * (56 bytes: name.len, name.data, type, set, conf, offset, post) ended by a zero entry; `type`
 * (offset 72) is the module type ("CORE", "HTTP", ...). Pointers in a PIE binary are filled in by
 * R_X86_64_RELATIVE relocations, so they are read from .rela.dyn. The output is facts about the
 * installed binaries (names and bitmasks), which src/nginx/directives.ts is generated from:
 *
 *   node src/nginx/extract-directives.mjs /usr/sbin/nginx /usr/lib/nginx/modules/*.so > /tmp/d.jsonl
 */
import { readFileSync } from 'node:fs';

const MODULE_TYPES = new Map([
  [0x45524f43, 'CORE'],
  [0x464e4f43, 'CONF'],
  [0x544e5645, 'EVNT'],
  [0x50545448, 'HTTP'],
  [0x4c49414d, 'MAIL'],
  [0x4d525453, 'STRM'],
]);

function extract(file, version) {
  const b = readFileSync(file);
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({
      type: b.readUInt32LE(o + 4),
      addr: Number(b.readBigUInt64LE(o + 16)),
      offset: Number(b.readBigUInt64LE(o + 24)),
      size: Number(b.readBigUInt64LE(o + 32)),
    });
  }
  const reloc = new Map();
  for (const s of sections) {
    if (s.type !== 4) continue; // SHT_RELA
    for (let o = s.offset; o < s.offset + s.size; o += 24) {
      const rOff = Number(b.readBigUInt64LE(o));
      const info = b.readBigUInt64LE(o + 8);
      if ((info & 0xffffffffn) === 8n) reloc.set(rOff, Number(b.readBigInt64LE(o + 16)));
    }
  }
  const toFile = (addr) => {
    for (const s of sections) {
      if (s.type !== 8 && s.addr !== 0 && addr >= s.addr && addr < s.addr + s.size) return s.offset + (addr - s.addr);
    }
    return -1;
  };
  const word = (addr) => {
    if (reloc.has(addr)) return reloc.get(addr);
    const o = toFile(addr);
    return o < 0 ? 0 : Number(b.readBigUInt64LE(o));
  };
  const cstr = (addr, len) => {
    const o = toFile(addr);
    return o < 0 ? null : b.toString('latin1', o, o + len);
  };
  const out = [];
  for (const s of sections) {
    if (s.type !== 1 || s.addr === 0) continue; // PROGBITS with an address
    for (let a = s.addr; a + 80 <= s.addr + s.size; a += 8) {
      if (word(a + 40) !== version) continue;
      const mt = MODULE_TYPES.get(word(a + 72));
      if (!mt) continue;
      let c = word(a + 64);
      if (!c) continue;
      for (let k = 0; k < 1000; k++, c += 56) {
        const len = word(c);
        if (len === 0) break;
        const name = cstr(word(c + 8), len);
        if (name === null || !/^[a-z0-9_]+$/.test(name)) break;
        out.push({ file, moduleType: mt, name, type: word(c + 16) >>> 0 });
      }
    }
  }
  return out;
}

const version = 1022001;
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()))
  for (const f of process.argv.slice(2)) for (const r of extract(f, version)) console.log(JSON.stringify(r));

/**
 * `--ts`: instead of JSON lines, print the body of TABLE in src/nginx/directives.ts: one line per
 * directive name, `name ctx:type ctx:type …` (hex), where ctx is why403's context mask (see
 * directives.ts) and type keeps nginx's argument/BLOCK bits (the low 16 bits of ngx_command_t.type).
 */
export function toContextMask(moduleType, type) {
  const t = type >>> 0;
  const bit = (m) => (t & m) !== 0;
  let ctx = 0;
  if (moduleType === 'CONF') return 0x3fff; // include: NGX_ANY_CONF
  if (moduleType === 'CORE') return bit(0x01000000) ? 0x1 : 0;
  if (moduleType === 'EVNT') return bit(0x02000000) ? 0x2 : 0;
  if (moduleType === 'HTTP') {
    if (bit(0x02000000)) ctx |= 0x4;
    if (bit(0x04000000)) ctx |= 0x8;
    if (bit(0x08000000)) ctx |= 0x10;
    if (bit(0x10000000)) ctx |= 0x20;
    if (bit(0x20000000)) ctx |= 0x40;
    if (bit(0x40000000)) ctx |= 0x80;
    if (bit(0x80000000)) ctx |= 0x100;
  }
  if (moduleType === 'MAIL') {
    if (bit(0x02000000)) ctx |= 0x200;
    if (bit(0x04000000)) ctx |= 0x400;
  }
  if (moduleType === 'STRM') {
    if (bit(0x02000000)) ctx |= 0x800;
    if (bit(0x04000000)) ctx |= 0x1000;
    if (bit(0x08000000)) ctx |= 0x2000;
  }
  return ctx;
}
