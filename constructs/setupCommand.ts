/**
 * Where every instance's setup script keeps itself on its first run: `sudo platform-setup` runs
 * it again, by hand or from a provisioner. cloud-init keeps the user data as EC2 delivered it,
 * gzipped, so the raw copy it keeps is no script to run.
 */
export const SETUP_COMMAND = "/usr/local/sbin/platform-setup";
