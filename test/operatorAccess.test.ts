import { buildPlatform } from "../stacks/buildPlatform";
import { loadConfig } from "../config/loadConfig";
import { ConfigError } from "../config/ConfigError";
import { onlyResource, resourcesOf, resourceStartingWith, synthAppStack, testApp, type Json } from "./helpers";

const ENDPOINT = ["--chef.operatorAccess", "instance-connect-endpoint"];

/** The chef and kafka stacks' JSON from one app synth with these flags. */
function platform(...flags: string[]): { chef: Json; kafka: Json } {
  const app = testApp();
  buildPlatform(app, loadConfig({ argv: flags, env: {} }));
  const chef = synthAppStack(app, "chef");
  return { chef, kafka: synthAppStack(app, "kafka") };
}

/** The kafka stack's steps that connect to the workstation; a guard runs at destroy, and reads where from its input. */
const connecting = (kafka: Json): { steps: Json[]; guards: Json[] } => {
  const all = Object.values(resourcesOf(kafka, "terraform_data")).filter((step) => step.connection !== undefined);
  const guards = all.filter((step) => step.connection.host === "${self.input.host}");
  expect(guards.length).toBeGreaterThan(0);
  expect(all.length - guards.length).toBeGreaterThan(10);
  for (const guard of guards) expect(guard.connection).toMatchObject({ port: "${self.input.port}" });
  return { steps: all.filter((step) => !guards.includes(step)), guards };
};

const statementsOf = (chef: Json, name: string): Json[] =>
  (Object.entries(chef.data.aws_iam_policy_document as Record<string, Json>).find(([key]) => key.startsWith(name))![1].statement as Json[]);

describe("operator access through an EC2 Instance Connect Endpoint", () => {
  const { chef, kafka } = platform(...ENDPOINT);
  const workstation = resourceStartingWith(chef, "aws_instance", "workstation_instance_");
  const endpoint = onlyResource(chef, "aws_ec2_instance_connect_endpoint");
  const endpointGroup = Object.entries(resourcesOf(chef, "aws_security_group")).find(([, group]) => group.description.startsWith("EC2 Instance Connect Endpoint"))!;
  const endpointGroupId = `\${aws_security_group.${endpointGroup[0]}.id}`;

  it("gives the workstation no public address and puts it in the first private subnet, beside the endpoint", () => {
    expect(workstation.associate_public_ip_address).toBe(false);
    expect(workstation.subnet_id).toMatch(/private-subnet-0id\}$/);
    expect(endpoint.subnet_id).toBe(workstation.subnet_id);
  });

  it("opens no port to any address range: the workstation's only new way in is SSH from the endpoint's group", () => {
    const rules = Object.values(resourcesOf(chef, "aws_vpc_security_group_ingress_rule"));
    expect(rules.filter((rule) => rule.cidr_ipv4 !== undefined || rule.cidr_ipv6 !== undefined)).toEqual([]);
    const toWorkstation = rules.filter((rule) => /workstation-security-groupid\}$/.test(rule.security_group_id));
    expect(toWorkstation).toEqual([expect.objectContaining({ from_port: 22, to_port: 22, ip_protocol: "tcp", referenced_security_group_id: endpointGroupId })]);
    expect(chef.variable.admin_cidr).toBeUndefined();
    expect(chef.output.workstation_public_ip).toBeUndefined();
  });

  it("lets the endpoint reach port 22 of the workstation's group and nothing else, without the operator's address", () => {
    expect(endpoint).toMatchObject({ security_group_ids: [endpointGroupId], preserve_client_ip: false });
    const fromEndpoint = Object.values(resourcesOf(chef, "aws_vpc_security_group_egress_rule")).filter((rule) => rule.security_group_id === endpointGroupId);
    expect(fromEndpoint).toEqual([expect.objectContaining({ from_port: 22, to_port: 22, ip_protocol: "tcp", referenced_security_group_id: expect.stringMatching(/workstation-security-groupid\}$/) })]);
    expect(Object.values(resourcesOf(chef, "aws_vpc_security_group_ingress_rule")).filter((rule) => rule.security_group_id === endpointGroupId)).toEqual([]);
  });

  it("gives operators a policy for SSH to the workstation alone: a tunnel to its port 22 for an hour at most, and a 60-second key for ubuntu", () => {
    const [pushKey, tunnel, find] = statementsOf(chef, "operator-access-document");
    expect(pushKey).toEqual({
      sid: "PushAShortLivedKey",
      actions: ["ec2-instance-connect:SendSSHPublicKey"],
      resources: [expect.stringMatching(/^\$\{aws_instance\.workstation_instance_[0-9A-F]{8}\.arn\}$/)],
      condition: [{ test: "StringEquals", variable: "ec2:osuser", values: ["ubuntu"] }],
    });
    expect(tunnel).toEqual({
      sid: "OpenTunnelToItsSsh",
      actions: ["ec2-instance-connect:OpenTunnel"],
      resources: [expect.stringMatching(/^\$\{aws_ec2_instance_connect_endpoint\.instance-connect-endpoint_[0-9A-F]{8}\.arn\}$/)],
      condition: [
        { test: "NumericEquals", variable: "ec2-instance-connect:remotePort", values: ["22"] },
        { test: "IpAddress", variable: "ec2-instance-connect:privateIpAddress", values: [expect.stringMatching(/^\$\{aws_instance\.workstation_instance_[0-9A-F]{8}\.private_ip\}\/32$/)] },
        { test: "NumericLessThanEquals", variable: "ec2-instance-connect:maxTunnelDuration", values: ["3600"] },
      ],
    });
    expect(find).toEqual({ sid: "FindTheInstance", actions: ["ec2:DescribeInstances", "ec2:DescribeInstanceConnectEndpoints"], resources: ["*"] });
    expect(chef.output.operator_policy_arn.value).toBe("${aws_iam_policy.operator-access.arn}");
  });

  it("outputs the tunnel to open, the login through it, and the login with a short-lived key", () => {
    const id = `\${aws_instance.${Object.keys(resourcesOf(chef, "aws_instance")).find((name) => name.startsWith("workstation_instance_"))!}.id}`;
    expect(chef.output.workstation_tunnel.value).toBe(`aws ec2-instance-connect open-tunnel --region us-west-2 --instance-id ${id} --local-port 2222 --max-websocket-connections 15`);
    expect(chef.output.workstation_ssh.value).toBe(`ssh -i <your key_pair_name private key> -p 2222 -o HostKeyAlias=${id} ubuntu@127.0.0.1`);
    expect(chef.output.workstation_ssh_short_lived_key.value).toBe(`aws ec2-instance-connect ssh --region us-west-2 --instance-id ${id} --os-user ubuntu --connection-type eice`);
  });

  it("connects every deploy-time step, the destroy-time guards too, to the tunnel's local port", () => {
    const { steps, guards } = connecting(kafka);
    for (const step of steps) expect(step.connection).toMatchObject({ host: "127.0.0.1", port: 2222 });
    for (const guard of guards) expect(guard.input).toMatchObject({ host: "127.0.0.1", port: 2222 });
    const moved = platform(...ENDPOINT, "--chef.tunnelPort", "4022");
    expect(moved.chef.output.workstation_tunnel.value).toMatch(/--local-port 4022 /);
    const other = connecting(moved.kafka);
    for (const step of other.steps) expect(step.connection).toMatchObject({ port: 4022 });
    for (const guard of other.guards) expect(guard.input).toMatchObject({ port: 4022 });
  });

  it("keeps the operators' policy itself when the mode changes, so roles that have it attached keep it: only its document differs", () => {
    const publicPolicy = onlyResource(platform().chef, "aws_iam_policy");
    const endpointPolicy = onlyResource(chef, "aws_iam_policy");
    expect(endpointPolicy).toEqual(publicPolicy);
    expect(endpointPolicy.policy).toBe("${data.aws_iam_policy_document.operator-access-document.json}");
  });

  it("re-runs the steps that set up a replaced workstation on its instance id, which the tunnel's fixed address would hide", () => {
    const hostKeys = resourcesOf(kafka, "terraform_data")["host-keys-node-0"];
    expect(hostKeys.triggers_replace.workstation).toMatch(/workstation_instance_[0-9A-F]{8}id\}$/);
  });
});

describe("operator access by the default public address", () => {
  const { chef, kafka } = platform();

  it("keeps SSH from admin_cidr to a public workstation, and no endpoint", () => {
    expect(resourcesOf(chef, "aws_ec2_instance_connect_endpoint")).toEqual({});
    expect(resourceStartingWith(chef, "aws_instance", "workstation_instance_").associate_public_ip_address).toBe(true);
    expect(chef.variable.admin_cidr).toBeDefined();
    expect(chef.output.workstation_tunnel).toBeUndefined();
  });

  it("offers a login with a 60-second key pushed by EC2 Instance Connect, straight to the public address", () => {
    expect(chef.output.workstation_ssh_short_lived_key.value).toMatch(/^aws ec2-instance-connect ssh --region us-west-2 --instance-id \$\{aws_instance\.workstation_instance_[0-9A-F]{8}\.id\} --os-user ubuntu --connection-type direct$/);
  });

  it("gives operators a policy to push a 60-second key for ubuntu to the workstation, and no tunnel", () => {
    expect(statementsOf(chef, "operator-access-document")).toEqual([
      expect.objectContaining({ sid: "PushAShortLivedKey", actions: ["ec2-instance-connect:SendSSHPublicKey"], resources: [expect.stringMatching(/workstation_instance_[0-9A-F]{8}\.arn\}$/)] }),
      { sid: "FindTheInstance", actions: ["ec2:DescribeInstances"], resources: ["*"] },
    ]);
  });

  it("connects the steps to the workstation's public address on 22", () => {
    const { steps, guards } = connecting(kafka);
    const publicIp = expect.stringMatching(/workstation_instance_[0-9A-F]{8}public_ip\}$/);
    for (const step of steps) expect(step.connection).toMatchObject({ host: publicIp, port: 22 });
    for (const guard of guards) expect(guard.input).toMatchObject({ host: publicIp, port: 22 });
  });
});

describe("operator access config", () => {
  const problems = (...argv: string[]): string => {
    try {
      loadConfig({ argv, env: {} });
      return "";
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
  };

  it("refuses another access mode, naming the field, the value and the choices", () => {
    expect(problems("--chef.operatorAccess", "bastion")).toContain('chef.operatorAccess: "bastion" must be one of "public-ssh", "instance-connect-endpoint"');
  });

  it("refuses a tunnel port that needs root or does not exist", () => {
    for (const port of ["22", "1023", "65536"]) {
      expect(problems(...ENDPOINT, "--chef.tunnelPort", port)).toContain(`chef.tunnelPort: ${port} must be a whole number from 1024 to 65535 (a local port that needs no root)`);
    }
    expect(problems(...ENDPOINT, "--chef.tunnelPort", "1024")).toBe("");
  });
});
