import type { App } from "cdktf";
import type { PlatformConfig } from "../config/PlatformConfig";
import { ChefStack } from "./ChefStack";
import type { HardenedInstance } from "../constructs/HardenedInstance";
import { KafkaStack } from "./KafkaStack";
import { MonitoringStack } from "./MonitoringStack";
import { NetworkStack } from "./NetworkStack";
import { SparkStack } from "./SparkStack";
import { StorageStack } from "./StorageStack";

/** Every stack of the platform, for tests and tools that inspect them. */
export interface Platform {
  readonly network: NetworkStack;
  readonly storage: StorageStack;
  readonly chef: ChefStack;
  readonly spark: SparkStack;
  readonly kafka: KafkaStack;
  readonly monitoring: MonitoringStack;
}

/** Composes the platform's stacks into an app; stacks get what they need as typed props. */
export function buildPlatform(app: App, config: PlatformConfig): Platform {
  const network = new NetworkStack(app, "network", { config });
  const storage = new StorageStack(app, "storage", { config });
  const chef = new ChefStack(app, "chef", { config, network, dataBucket: storage.bucket, dataKeyArn: storage.dataKey.arn });
  const spark = new SparkStack(app, "spark", {
    config,
    network,
    dataReadPolicyJson: storage.readPolicyJson,
    outputWritePolicyJson: storage.sparkOutputPolicyJson,
    bootstrapKey: { parameter: chef.bootstrapKeyParameter, sourceParameter: chef.bootstrapKeySourceParameter, readPolicyJson: chef.readBootstrapKeyPolicyJson },
    jobsKey: { parameter: chef.jobsKeyParameter, readPolicyJson: chef.readJobsKeyPolicyJson },
    workstationRoleArn: chef.workstation.role.arn,
  });
  const kafka = new KafkaStack(app, "kafka", {
    config,
    network,
    chef: {
      serverSecurityGroup: chef.serverSecurityGroup,
      workstation: chef.workstationAccess,
      serverInstanceId: chef.server.instance.id,
      bootstrapKeyParameter: chef.bootstrapKeyParameter,
      bootstrapKeySourceParameter: chef.bootstrapKeySourceParameter,
      readBootstrapKeyPolicyJson: chef.readBootstrapKeyPolicyJson,
      chefRepoHash: chef.chefRepoHash,
    },
    sparkSecurityGroup: spark.securityGroup,
  });
  const watched = (node: HardenedInstance) => ({ name: node.name, instanceId: node.instance.id });
  const monitoring = new MonitoringStack(app, "monitoring", {
    config,
    chef: { server: watched(chef.server), workstation: watched(chef.workstation) },
    spark: { master: watched(spark.master), workers: spark.workers.map(watched) },
    kafka: { brokers: kafka.nodes.map(watched), controllers: kafka.controllers.map(watched) },
  });
  return { network, storage, chef, spark, kafka, monitoring };
}
