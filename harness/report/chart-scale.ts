// Axis helpers for the hand-made SVG charts: round tick steps (1, 2, 5 x 10^n) so gridlines land on numbers a
// reader can use.

export interface LinearScale {
  max: number;
  ticks: number[];
}

export function niceScale(dataMax: number, tickCount = 5): LinearScale {
  const max = dataMax > 0 && Number.isFinite(dataMax) ? dataMax : 1;
  const raw = max / tickCount;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * magnitude;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step / 1e6; i++) ticks.push(Number((i * step).toPrecision(12)));
  return { max: Number(top.toPrecision(12)), ticks };
}

/** Rounds SVG coordinates so the markup stays short and stable across runs. */
export const px = (n: number): string => String(Math.round(n * 10) / 10);
