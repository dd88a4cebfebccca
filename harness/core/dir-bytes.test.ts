import { closeSync, mkdirSync, mkdtempSync, openSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirBytes, diskBytes, heldDeletedBytes } from './dir-bytes.ts';

describe('dirBytes / heldDeletedBytes', () => {
  it('counts a file deleted while held open until its descriptor closes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dir-bytes-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'kept'), Buffer.alloc(1000));
    const gone = join(dir, 'sub', 'gone');
    const fd = openSync(gone, 'w');
    writeSync(fd, Buffer.alloc(5000));
    const outside = mkdtempSync(join(tmpdir(), 'dir-bytes-other-'));
    const other = openSync(join(outside, 'x'), 'w');
    writeSync(other, Buffer.alloc(7000));
    unlinkSync(join(outside, 'x'));
    try {
      expect(dirBytes(dir)).toBe(6000);
      if (heldDeletedBytes(dir) === null) return; // no /proc here
      expect(heldDeletedBytes(dir)).toBe(0);
      unlinkSync(gone);
      expect(dirBytes(dir)).toBe(1000);
      // Only files once under the directory: the other directory's deleted file is not counted.
      expect(heldDeletedBytes(dir)).toBe(5000);
      expect(diskBytes(dir)).toBe(6000);
    } finally {
      closeSync(fd);
      closeSync(other);
    }
    expect(heldDeletedBytes(dir)).toBe(0);
    expect(diskBytes(dir)).toBe(1000);
  });
});
