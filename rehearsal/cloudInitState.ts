import { waitFor } from "./system";

/** Where a machine's first boot stands, as cloud-init and systemd report it. */
export type CloudInitState =
  | { readonly kind: "done" }
  | { readonly kind: "error"; readonly detail: string }
  | { readonly kind: "running" }
  /** A cloud-init unit failed to start at all (in a container, systemd can fail to set up its cgroup): it never ends. */
  | { readonly kind: "stuck"; readonly detail: string };

/** The command whose output cloudInitState reads: cloud-init's status, then each of its units' state. */
export const CLOUD_INIT_STATE_COMMAND =
  "cloud-init status; systemctl is-failed cloud-init-local.service cloud-init.service cloud-config.service cloud-final.service || true";

const UNITS = ["cloud-init-local", "cloud-init", "cloud-config", "cloud-final"];

/** Reads CLOUD_INIT_STATE_COMMAND's output. */
export function cloudInitState(output: string): CloudInitState {
  const lines = output.trim().split("\n");
  const status = /^status: (\w+)/m.exec(output)?.[1];
  if (status === "done") return { kind: "done" };
  if (status === "error") return { kind: "error", detail: lines.join("; ") };
  const failed = UNITS.filter((_unit, index) => lines[lines.length - UNITS.length + index] === "failed");
  if (failed.length > 0) return { kind: "stuck", detail: `${failed.map((unit) => `${unit}.service`).join(", ")} failed with cloud-init ${status ?? "not reporting"}` };
  return { kind: "running" };
}

/** What a machine's first boot came to: no SSH login in time, or where cloud-init then stood. */
export type FirstBoot = { readonly kind: "no-login" } | CloudInitState;

/**
 * Waits for a machine's first boot: an SSH login within `loginSeconds`, then cloud-init done,
 * failed or stuck within `setupSeconds` (still "running" when that runs out). `ssh` runs a
 * command on the machine.
 */
export async function awaitFirstBoot(ssh: (command: string) => { readonly status: number | null; readonly output: string }, loginSeconds: number, setupSeconds: number): Promise<FirstBoot> {
  if (!(await waitFor(() => ssh("true").status === 0, loginSeconds, 2000))) return { kind: "no-login" };
  const last: { state: CloudInitState } = { state: { kind: "running" } };
  await waitFor(() => (last.state = cloudInitState(ssh(CLOUD_INIT_STATE_COMMAND).output)).kind !== "running", setupSeconds, 2000);
  return last.state;
}
