import type { App } from "cdktf";
import type { PlatformConfig } from "../config/PlatformConfig";
import { NetworkStack } from "./NetworkStack";
import { StorageStack } from "./StorageStack";

/** Every stack of the platform, for tests and tools that inspect them. */
export interface Platform {
  readonly network: NetworkStack;
  readonly storage: StorageStack;
}

/** Composes the platform's stacks into an app; stacks get what they need as typed props. */
export function buildPlatform(app: App, config: PlatformConfig): Platform {
  const network = new NetworkStack(app, "network", { config });
  const storage = new StorageStack(app, "storage", { config });
  return { network, storage };
}
