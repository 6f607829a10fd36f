import type { ChefConfig } from "../config/PlatformConfig";

/** One .deb the Chef control plane installs, and how to verify it. */
export interface ChefPackage {
  /** dpkg package name. */
  readonly name: string;
  readonly version: string;
  readonly url: string;
  /** Pinned sha256/sha512 hex, or "" to verify against the publisher's metadata. */
  readonly checksum: string;
}

export interface ChefPackages {
  readonly server: ChefPackage;
  /** The server's control command: `cinc-server-ctl` or `chef-server-ctl`. */
  readonly serverCtl: string;
  readonly workstation: ChefPackage;
  /** Environment a Chef-branded tool needs to run unattended, once the licence is accepted. */
  readonly licenceEnv: Readonly<Record<string, string>>;
}

const DOWNLOADS = { cinc: "https://downloads.cinc.sh/files/stable", chef: "https://packages.chef.io/files/stable" } as const;

/**
 * The server and workstation packages for the chosen flavor, as direct .deb downloads (the
 * omnitruck install script is being retired). Cinc is the free rebuild of the same releases.
 */
export function chefPackages(chef: ChefConfig, serverRelease: string, workstationRelease: string): ChefPackages {
  const base = DOWNLOADS[chef.flavor];
  const product = chef.flavor === "cinc" ? "cinc" : "chef";
  const deb = (project: string, packageName: string, version: string, release: string): string =>
    `${base}/${project}/${version}/ubuntu/${release}/${packageName}_${version}-1_amd64.deb`;
  return {
    server: {
      name: `${product}-server-core`,
      version: chef.serverVersion,
      url: deb(`${product}-server`, `${product}-server-core`, chef.serverVersion, serverRelease),
      checksum: chef.serverPackageChecksum,
    },
    serverCtl: `${product}-server-ctl`,
    workstation: {
      name: `${product}-workstation`,
      version: chef.workstationVersion,
      url: deb(`${product}-workstation`, `${product}-workstation`, chef.workstationVersion, workstationRelease),
      checksum: chef.workstationPackageChecksum,
    },
    licenceEnv: chef.flavor === "chef" ? { CHEF_LICENSE: "accept-no-persist" } : {},
  };
}
