using System.Net;
using System.Net.Sockets;

namespace Tessera.Activation.Delivery;

/// <summary>
/// Which addresses a destination's requests may go to (server-side request forgery: a destination is a URL an admin
/// key sets, and the server calls it from inside its network). Never: link-local addresses (169.254.0.0/16, fe80::/10:
/// cloud metadata services answer at 169.254.169.254, and at fd00:ec2::254 and 100.100.100.200, refused by name),
/// unspecified, multicast and reserved ones. Loopback (127.0.0.0/8, ::1, <c>localhost</c>) and private addresses
/// (RFC 1918, 100.64.0.0/10 carrier-grade NAT, fc00::/7 unique local) only inside a network listed in
/// <c>activation.allowedPrivateNetworks</c>. Checked on the URL when a destination is saved, and on the address
/// actually connected to (after DNS, on every redirect) when it is delivered to (docs/destinations.md#network-addresses).
/// </summary>
public sealed class EndpointAddresses
{
    /// <summary>The error of a delivery refused for its address (the batch goes to the dead letters).</summary>
    public const string RefusedCode = "ENDPOINT_ADDRESS_REFUSED";

    /// <summary>The setting that lets destinations reach loopback and private addresses.</summary>
    public const string SettingName = "activation.allowedPrivateNetworks";

    private static readonly IPAddress[] MetadataAddresses =
    [
        IPAddress.Parse("169.254.169.254"), // AWS, Azure, Google Cloud, Oracle, DigitalOcean...
        IPAddress.Parse("fd00:ec2::254"), // AWS over IPv6 (in the unique local range, so named)
        IPAddress.Parse("100.100.100.200"), // Alibaba Cloud (in the carrier-grade NAT range, so named)
    ];

    private readonly IPNetwork[] _allowed;

    /// <param name="allowedPrivateNetworks">CIDR blocks (<c>127.0.0.0/8</c>, <c>10.20.0.0/16</c>, <c>fd12::/16</c>) whose loopback and private addresses may be called.</param>
    /// <exception cref="FormatException">An entry is not a CIDR block.</exception>
    public EndpointAddresses(IEnumerable<string>? allowedPrivateNetworks)
    {
        _allowed = [.. (allowedPrivateNetworks ?? []).Select(text => IPNetwork.TryParse(text, out var network)
            ? network
            : throw new FormatException($"{SettingName}: '{text}' is not a CIDR block such as 127.0.0.0/8 or 10.20.0.0/16 (an address, a slash and the length of its prefix)"))];
    }

    /// <summary>Why <paramref name="address"/> may not be called, or null when it may.</summary>
    public string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (MetadataAddresses.Contains(address))
        {
            return $"{address} is a cloud metadata service's address (never allowed)";
        }
        if (Never(address) is { } never)
        {
            return $"{address} is {never} (never allowed)";
        }
        return Internal(address) is { } kind && !_allowed.Any(network => network.Contains(address))
            ? $"{address} is {kind} (allowed only in a network listed in {SettingName} in tessera.json)"
            : null;
    }

    /// <summary>
    /// Why the host of <paramref name="uri"/> may not be called, as far as the URL tells (an IP address or
    /// <c>localhost</c>); any other name is checked on the addresses it resolves to, when delivering.
    /// </summary>
    public string? Refusal(Uri uri)
    {
        var host = uri.IdnHost.Trim('[', ']').TrimEnd('.');
        if (IPAddress.TryParse(host, out var address))
        {
            return Refusal(address);
        }
        // RFC 6761: localhost and every name under it are the loopback interface, whatever a resolver says.
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return Refusal(IPAddress.Loopback) is null || Refusal(IPAddress.IPv6Loopback) is null
                ? null
                : $"{host} is the loopback interface (allowed only in a network listed in {SettingName} in tessera.json)";
        }
        return null;
    }

    private static string? Never(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var bytes = address.GetAddressBytes();
            return bytes[0] == 169 && bytes[1] == 254 ? "a link-local address"
                : bytes[0] == 0 ? "an unspecified address"
                : bytes[0] >= 224 ? "a multicast or reserved address"
                : null;
        }
        return address.Equals(IPAddress.IPv6Any) ? "an unspecified address"
            : address.IsIPv6LinkLocal ? "a link-local address"
            : address.IsIPv6Multicast ? "a multicast address"
            : null;
    }

    private static string? Internal(IPAddress address)
    {
        if (IPAddress.IsLoopback(address))
        {
            return "a loopback address";
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var bytes = address.GetAddressBytes();
            return bytes[0] == 10 || (bytes[0] == 172 && (bytes[1] & 0xF0) == 16) || (bytes[0] == 192 && bytes[1] == 168) ? "a private address (RFC 1918)"
                : bytes[0] == 100 && (bytes[1] & 0xC0) == 64 ? "a carrier-grade NAT address (100.64.0.0/10)"
                : null;
        }
        return address.IsIPv6UniqueLocal ? "a unique local address (fc00::/7)"
            : address.IsIPv6SiteLocal ? "a site-local address (fec0::/10)"
            : null;
    }
}

/// <summary>A connection refused because of the address it would reach (<see cref="EndpointAddresses"/>).</summary>
public sealed class EndpointAddressRefusedException(string message) : Exception(message);
