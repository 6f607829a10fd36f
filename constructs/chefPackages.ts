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

const DOWNLOADS = { cinc: "https://downloads.cinc.sh/files/stable", chef: "https://packages.chef.io/files/stable" } as const;

/**
 * sha256 of the Cinc Client packages the platform was built against, by release and CPU
 * architecture. Another version or the Chef flavor falls back to the publisher's metadata.
 */
const PINNED_CINC_CLIENT: { readonly version: string; readonly sha256: Readonly<Record<string, string>> } = {
  version: "18.6.2",
  sha256: {
    "22.04/amd64": "043c2cb693d1b6038a3341b471efdb5726d7b08c55f4835a1fb59a6a7f1fba21",
    "22.04/arm64": "a7404177b1bca4eae8b6e79992e6c68606d0da545604635a074cc52ab42dce24",
    "24.04/amd64": "48d4e2f5a5befd6a18a90c7dc05aa038a5032825b048e5614dec0e0e83eca42c",
    "24.04/arm64": "f36a1b948f0a3559a7eb4ee60c5512586a961c315f135f281faa7f15623ba560",
  },
};

export interface ChefClientPackage extends ChefPackage {
  /** The client command: `cinc-client` or `chef-client`. */
  readonly binary: string;
  /** Where the package installs it. */
  readonly binaryPath: string;
}

/** The Chef Infra Client (Cinc Client) package for cluster nodes of one release and architecture. */
export function chefClientPackage(chef: ChefConfig, release: string, architecture: string): ChefClientPackage {
  // Package names, commands and paths all carry the flavor: cinc_…deb, cinc-client, /opt/cinc, /etc/cinc.
  const product = chef.flavor;
  const pinned = product === "cinc" && chef.clientVersion === PINNED_CINC_CLIENT.version;
  return {
    name: product,
    version: chef.clientVersion,
    url: `${DOWNLOADS[product]}/${product}/${chef.clientVersion}/ubuntu/${release}/${product}_${chef.clientVersion}-1_${architecture}.deb`,
    checksum: pinned ? (PINNED_CINC_CLIENT.sha256[`${release}/${architecture}`] ?? "") : "",
    binary: `${product}-client`,
    binaryPath: `/opt/${product}/bin/${product}-client`,
  };
}

export interface ChefPackages {
  readonly server: ChefPackage;
  /** The server's control command: `cinc-server-ctl` or `chef-server-ctl`. */
  readonly serverCtl: string;
  /** The file `reconfigure` reads: Cinc renames Chef's /etc/opscode/chef-server.rb. */
  readonly serverConfigFile: string;
  readonly workstation: ChefPackage;
  /** Environment a Chef-branded tool needs to run unattended, once the licence is accepted. */
  readonly licenceEnv: Readonly<Record<string, string>>;
}

/**
 * The server and workstation packages for the chosen flavor, as direct .deb downloads (the
 * omnitruck install script is being retired). Cinc is the free rebuild of the same releases.
 */
export function chefPackages(chef: ChefConfig, serverRelease: string, workstationRelease: string): ChefPackages {
  const product = chef.flavor;
  const base = DOWNLOADS[product];
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
    serverConfigFile: product === "cinc" ? "/etc/cinc-project/cinc-server.rb" : "/etc/opscode/chef-server.rb",
    workstation: {
      name: `${product}-workstation`,
      version: chef.workstationVersion,
      url: deb(`${product}-workstation`, `${product}-workstation`, chef.workstationVersion, workstationRelease),
      checksum: chef.workstationPackageChecksum,
    },
    licenceEnv: product === "chef" ? { CHEF_LICENSE: "accept-no-persist" } : {},
  };
}

/** The operator's Chef repository on the workstation: cookbooks, roles, data bags and knife's config. */
const WORKSTATION_REPO = "/home/ubuntu/chef-repo";

/**
 * knife's config in the workstation's repository. knife finds it by walking up from the working
 * directory to `.chef/config.rb`; Cinc Workstation's knife looks for `.cinc/config.rb` instead.
 */
export function knifeConfigPath(chef: ChefConfig): string {
  return `${WORKSTATION_REPO}/.${chef.flavor}/config.rb`;
}
