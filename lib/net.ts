/**
 * Address and name helpers shared by the stack rules and the components: IPv4 addresses and subnets,
 * DNS labels, loopback hosts. Pure functions over strings.
 */
import ipaddr from "ipaddr.js";

/** RFC 1123 DNS label: what Talos, Kubernetes and Proxmox all accept as a hostname. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A dotted-quad IPv4 address (no leading zeros, each part 0-255). */
function isIPv4(value: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(value);
}

/** The subnet of a CIDR: its network and broadcast addresses and a membership test. */
export interface Subnet {
  network: string;
  broadcast: string;
  prefix: number;
  contains(ip: string): boolean;
}

export function subnetOf(cidr: string): Subnet {
  const [address, prefix] = ipaddr.IPv4.parseCIDR(cidr);
  const network = ipaddr.IPv4.networkAddressFromCIDR(cidr).toString();
  const broadcast = ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString();
  return {
    network,
    broadcast,
    prefix,
    contains: (ip: string) => isIPv4(ip) && ipaddr.IPv4.parse(ip).match(address, prefix),
  };
}

/** Loopback hosts, the only ones allowed to use plain http (a local Infisical for tests or a tunnel). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
