import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";

const ROOT = join(__dirname, "..");

/**
 * Copies this checkout's working tree (tracked files and new ones git does not ignore, uncommitted
 * changes included) into `destination`, and links its node_modules there: the project as a user
 * would have it, to run commands or commit on without touching the checkout.
 */
export function copyWorkingTree(destination: string): void {
  const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\0").filter(Boolean);
  for (const file of files) {
    // Listed but deleted in the working tree.
    if (!existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(destination, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(destination, file));
  }
  symlinkSync(join(ROOT, "node_modules"), join(destination, "node_modules"));
}
