// Settings: the choices a spec leaves to an implementation and gives a default for (the rate limiter fails open
// unless configured to fail closed). A target declares the ones it changed (manifest `settings`, or `--setting
// KEY=VALUE` for a URL target); checks grade the declared value, or the spec's default when nothing is declared.

export type SettingValue = string | number | boolean;
export type Settings = Readonly<Record<string, SettingValue>>;

/** Parses `--setting KEY=VALUE` pairs; `true`/`false` and numbers are typed, everything else is a string. */
export function parseSettings(pairs: readonly string[] | undefined): Record<string, SettingValue> | undefined {
  if (!pairs?.length) return undefined;
  const out: Record<string, SettingValue> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`--setting takes KEY=VALUE, got ${p}`);
    const key = p.slice(0, i);
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(key)) throw new Error(`--setting ${key}: a key is letters, digits, _ . -`);
    const raw = p.slice(i + 1);
    out[key] =
      raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}
