// A number with its unit and the formula that produced it, so every target can say where it came from. The
// formatters write numbers the way a person would on a whiteboard: "~1,157 req/s", "30 TB", "300 million".

export interface Quantity {
  value: number;
  unit: string;
  /** Symbolic formula whose identifiers are keys of `inputs`, e.g. "urlsPerDay / secondsPerDay". */
  formula: string;
  inputs?: Record<string, number>;
}

const identifier = /[A-Za-z_][A-Za-z0-9_]*/g;

// Two numbers that differ only by floating-point noise (54.75 vs 54.750000000000007) count as the same figure.
function sameFigure(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

function defaultFractionDigits(value: number): number {
  const abs = Math.abs(value);
  if (abs >= 100) return 0;
  if (abs >= 10) return 1;
  return 2;
}

/** Thousands separators; "~" in front when the shown figure is rounded. Small values keep 3 significant digits. */
export function formatNumber(value: number, maxFractionDigits?: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const options: Intl.NumberFormatOptions =
    maxFractionDigits === undefined && abs > 0 && abs < 1
      ? { maximumSignificantDigits: 3 }
      : { maximumFractionDigits: maxFractionDigits ?? defaultFractionDigits(value) };
  const text = new Intl.NumberFormat('en-US', options).format(value);
  return sameFigure(Number(text.replaceAll(',', '')), value) ? text : `~${text}`;
}

const countScales: readonly [number, string][] = [
  [1e15, 'quadrillion'],
  [1e12, 'trillion'],
  [1e9, 'billion'],
  [1e6, 'million'],
];

/** Large counts in words (short scale, as the book uses them): 365e9 -> "365 billion", 3.52e12 -> "~3.5 trillion". */
export function formatCount(value: number, maxFractionDigits = 1): string {
  const abs = Math.abs(value);
  for (const [scale, word] of countScales) {
    if (abs >= scale) return `${formatNumber(value / scale, maxFractionDigits)} ${word}`;
  }
  return formatNumber(value);
}

const decimalByteUnits = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'] as const;
const binaryByteUnits = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

export interface ByteFormatOptions {
  /** Powers of 1024 (KiB, MiB...) instead of the book's decimal units (1 KB = 1,000 bytes). */
  binary?: boolean;
  maxFractionDigits?: number;
}

/** Bytes in the largest unit that keeps the figure >= 1 (from 10,000 bytes up): 30e12 -> "30 TB", 5.5e16 -> "55 PB". */
export function formatBytes(bytes: number, options: ByteFormatOptions = {}): string {
  const base = options.binary ? 1024 : 1000;
  const units = options.binary ? binaryByteUnits : decimalByteUnits;
  let index = 0;
  let scaled = bytes;
  // Under ten thousand, bytes stay bytes: "1,204 bytes" says more than "~1.2 KB".
  const scalable = Math.abs(bytes) >= 10_000;
  while (scalable && Math.abs(scaled) >= base && index < units.length - 1) {
    scaled /= base;
    index++;
  }
  if (index === 0) return `${formatNumber(bytes)} ${bytes === 1 ? 'byte' : 'bytes'}`;
  return `${formatNumber(scaled, options.maxFractionDigits ?? 1)} ${units[index]}`;
}

const durationUnits: readonly [number, string][] = [
  [86_400, 'days'],
  [3_600, 'hours'],
  [60, 'minutes'],
  [1, 's'],
  [1e-3, 'ms'],
  [1e-6, 'µs'],
  [1e-9, 'ns'],
];

/** Seconds in the largest unit that keeps the figure >= 1: 3153.6 -> "~52.6 minutes", 5e-7 -> "500 ns". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0 s';
  const abs = Math.abs(seconds);
  const [size, unit] = durationUnits.find(([s]) => abs >= s * (1 - 1e-12)) ?? [1e-9, 'ns'];
  return `${formatNumber(seconds / size)} ${unit}`;
}

export interface QuantityFormatOptions {
  /** For byte quantities: binary units (KiB...) instead of decimal (KB...). */
  binary?: boolean;
}

/** A quantity for people: bytes and durations get their own units, large counts are written in words. */
export function formatQuantity(quantity: Quantity, options: QuantityFormatOptions = {}): string {
  const { value, unit } = quantity;
  if (unit === 'bytes') return formatBytes(value, { binary: options.binary ?? false });
  if (unit === 's') return formatDuration(value);
  if (unit === 'ns') return formatDuration(value * 1e-9);
  if (unit === 'ratio') return `${formatNumber(value * 100)}%`;
  const figure = Math.abs(value) >= 1e6 ? formatCount(value) : formatNumber(value);
  return unit ? `${figure} ${unit}` : figure;
}

/** An input as it appears inside a substituted formula: words for large counts, separators for the rest. */
export function formatInput(value: number): string {
  return Math.abs(value) >= 1e6 ? formatCount(value) : formatNumber(value);
}

/** The formula with each input name replaced by its value: "urlsPerDay / secondsPerDay" -> "100 million / 86,400". */
export function substituteInputs(quantity: Quantity): string {
  const inputs = quantity.inputs ?? {};
  return quantity.formula.replace(identifier, (name) => {
    const value = inputs[name];
    return Object.hasOwn(inputs, name) && value !== undefined ? formatInput(value) : name;
  });
}

/**
 * Generic helpers name their inputs generically (countPerDay); a chapter renames them to its own words
 * (urlsPerDay) so the formula reads like the book's derivation.
 */
export function renameInputs(quantity: Quantity, names: Record<string, string>): Quantity {
  const rename = (name: string): string => (Object.hasOwn(names, name) ? (names[name] ?? name) : name);
  const result: Quantity = { ...quantity, formula: quantity.formula.replace(identifier, rename) };
  if (quantity.inputs) {
    result.inputs = Object.fromEntries(Object.entries(quantity.inputs).map(([k, v]) => [rename(k), v]));
  }
  return result;
}
