// k6 prints a progress bar per scenario every second; on a long run a person wants a line every few seconds, and
// every line that is not a progress bar (warnings, errors, threshold verdicts) at once.
const progressBar = /\[\s*\d+%\s*\]|running \(|\bwaiting\b/;

export function throttleProgress(onProgress: (line: string) => void, everyMs = 10_000): (line: string) => void {
  let last = 0;
  return (line) => {
    if (!progressBar.test(line)) return onProgress(line);
    const now = Date.now();
    if (now - last >= everyMs) {
      last = now;
      onProgress(line.trim());
    }
  };
}
