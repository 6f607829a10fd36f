import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const BLOCK = 512;

/**
 * A gzipped ustar archive of a directory, built in-process and byte-for-byte reproducible:
 * entries sorted, owner root, mtime 0. The same tree always gives the same bytes, so its hash
 * only changes when a file does.
 */
export function tarGz(dir: string): Buffer {
  const blocks: Buffer[] = [];
  for (const path of walk(dir)) {
    const name = relative(dir, path).split("\\").join("/");
    const isDirectory = statSync(path).isDirectory();
    const content = isDirectory ? Buffer.alloc(0) : readFileSync(path);
    blocks.push(header(isDirectory ? `${name}/` : name, isDirectory ? 0o755 : 0o644, content.length, isDirectory));
    if (!isDirectory) {
      blocks.push(content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK));
    }
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? [path, ...walk(path)] : [path];
    });
}

function header(name: string, mode: number, size: number, isDirectory: boolean): Buffer {
  const block = Buffer.alloc(BLOCK);
  // ustar keeps names up to 100 bytes, or 255 split into a 155-byte prefix and the rest.
  let prefix = "";
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf("/", 155);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    // Both fields hold bytes: a prefix of two-byte letters must not be cut short in its field.
    if (cut <= 0 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(base) > 100) throw new Error(`path too long for a tar archive: ${name}`);
  }
  const octal = (value: number, width: number): string => value.toString(8).padStart(width - 1, "0");
  block.write(base, 0, 100, "utf8");
  block.write(octal(mode, 8), 100, 8, "ascii");
  block.write(octal(0, 8), 108, 8, "ascii");
  block.write(octal(0, 8), 116, 8, "ascii");
  block.write(octal(size, 12), 124, 12, "ascii");
  block.write(octal(0, 12), 136, 12, "ascii");
  block.fill(" ", 148, 156);
  block.write(isDirectory ? "5" : "0", 156, 1, "ascii");
  block.write("ustar\u000000", 257, 8, "ascii");
  block.write("root", 265, 32, "ascii");
  block.write("root", 297, 32, "ascii");
  block.write(prefix, 345, 155, "utf8");
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  block.write(`${octal(checksum, 7)}\u0000 `, 148, 8, "ascii");
  return block;
}
