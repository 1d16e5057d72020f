// Policy `source_cidrs`: a grant whose policy lists networks may be used only from addresses inside them.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export type AddressCheck = (address: string) => boolean;

/** Builds the check once per policy; no CIDRs means any address. */
export function sourceAddressCheck(cidrs: readonly string[] | undefined): AddressCheck {
  if (!cidrs || cidrs.length === 0) return () => true;
  const allowed = new BlockList();
  for (const cidr of cidrs) {
    const [network = '', prefix] = cidr.split('/');
    const family = isIPv6(network) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) allowed.addAddress(network, family);
    else allowed.addSubnet(network, Number(prefix), family);
  }
  return (address) => {
    // Client addresses arrive as "host:port"; IPv4-mapped IPv6 ("::ffff:10.0.0.1") is checked as IPv4.
    const host = address.slice(0, address.lastIndexOf(':')).replace(/^::ffff:/, '');
    if (isIPv4(host)) return allowed.check(host, 'ipv4');
    if (isIPv6(host)) return allowed.check(host, 'ipv6');
    return false;
  };
}
