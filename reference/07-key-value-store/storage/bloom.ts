// A Bloom filter over an SSTable's keys (the book's read path): "definitely not here" without touching the disk.
// 10 bits and 7 hashes per key give about 1% false positives. Double hashing (Kirsch-Mitzenmacher) over two 32-bit
// FNV-1a variants of the key.

export class BloomFilter {
  readonly bits: Uint8Array;
  readonly m: number;
  constructor(
    readonly k: number,
    bitsOrSize: Uint8Array | number,
  ) {
    this.bits = typeof bitsOrSize === 'number' ? new Uint8Array(Math.ceil(Math.max(64, bitsOrSize) / 8)) : bitsOrSize;
    this.m = this.bits.length * 8;
  }

  static forKeys(count: number, bitsPerKey = 10): BloomFilter {
    return new BloomFilter(Math.max(1, Math.round(bitsPerKey * Math.LN2)), count * bitsPerKey);
  }

  private positions(key: string, visit: (bit: number) => boolean | undefined): boolean {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193 ^ key.length;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    h2 = (h2 ^ (h2 >>> 15)) | 1;
    for (let i = 0; i < this.k; i++) {
      const bit = ((h1 + Math.imul(i, h2)) >>> 0) % this.m;
      if (visit(bit) === false) return false;
    }
    return true;
  }

  add(key: string): void {
    this.positions(key, (b) => {
      this.bits[b >>> 3]! |= 1 << (b & 7);
      return true;
    });
  }

  mightContain(key: string): boolean {
    return this.positions(key, (b) => (this.bits[b >>> 3]! & (1 << (b & 7))) !== 0);
  }

  toBase64(): string {
    return Buffer.from(this.bits).toString('base64');
  }

  static fromBase64(k: number, text: string): BloomFilter {
    return new BloomFilter(k, new Uint8Array(Buffer.from(text, 'base64')));
  }
}
