/**
 * The one colour decision, shared by lint's formatters and `explain`:
 * 1. `--color` / `--no-color` wins;
 * 2. then NO_COLOR (set and not empty: no colour, https://no-color.org);
 * 3. then FORCE_COLOR (set and not empty: colour, except `0` and `false`);
 * 4. then whether the output is a terminal.
 */
export interface ColorInput {
  /** `--color` (true), `--no-color` (false), or neither (undefined). */
  flag?: boolean | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether the stream written to is a TTY. */
  isTTY: boolean;
}

export function useColor({ flag, env, isTTY }: ColorInput): boolean {
  if (flag !== undefined) return flag;
  const no = env.NO_COLOR;
  if (no !== undefined && no !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  return isTTY;
}
