using System.Net;
using System.Net.Sockets;

namespace Tessera.Activation.Delivery;

/// <summary>
/// Which addresses a destination's requests may go to (server-side request forgery: a destination is a URL an admin
/// key sets, and the server calls it from inside its network). Never: link-local addresses (169.254.0.0/16, fe80::/10:
/// cloud metadata services answer at 169.254.169.254, and at fd00:ec2::254 and 100.100.100.200, refused by name),
/// unspecified, multicast and reserved ones, also when an IPv6 address carries them (NAT64, 6to4, Teredo). Loopback
/// (127.0.0.0/8, ::1, <c>localhost</c>) and private addresses (RFC 1918, 100.64.0.0/10 carrier-grade NAT, fc00::/7
/// unique local) only inside a network listed in
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
        if (EmbeddedIPv4(address) is ({ } embedded, var form) && Refusal(embedded) is { } inner)
        {
            // A translator or tunnel in the path would carry the request to the IPv4 address inside.
            return $"{address} is {form} of {embedded}, and {inner}";
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

    /// <summary>
    /// The IPv4 address an IPv6 address carries to a translator or tunnel that forwards it there: NAT64's well-known
    /// prefix (64:ff9b::/96, RFC 6052), 6to4 (2002::/16, RFC 3056), Teredo's client (2001::/32, RFC 4380, stored
    /// inverted) and the deprecated IPv4-compatible form (::/96). Other ranges are judged on their own.
    /// </summary>
    private static (IPAddress? Address, string Form) EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return (null, "");
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        if (bytes[..12].SequenceEqual(Nat64WellKnown))
        {
            return (new IPAddress(bytes[12..]), "a NAT64 address (64:ff9b::/96)");
        }
        if (bytes[0] == 0x20 && bytes[1] == 0x02)
        {
            return (new IPAddress(bytes[2..6]), "a 6to4 address (2002::/16)");
        }
        if (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0 && bytes[3] == 0)
        {
            Span<byte> client = stackalloc byte[4];
            for (var i = 0; i < 4; i++)
            {
                client[i] = (byte)~bytes[12 + i];
            }
            return (new IPAddress(client), "a Teredo address (2001::/32)");
        }
        // ::/96 past :: and ::1, which are judged as the unspecified and the loopback address.
        return bytes[..12].IndexOfAnyExcept((byte)0) < 0 && !address.Equals(IPAddress.IPv6Any) && !IPAddress.IsLoopback(address)
            ? (new IPAddress(bytes[12..]), "an IPv4-compatible address (::/96)")
            : (null, "");
    }

    private static bool IsLocalNat64(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        return address.TryWriteBytes(bytes, out _) && bytes[..4].SequenceEqual(Nat64WellKnown[..4]) && bytes[4] == 0 && bytes[5] == 1;
    }

    private static ReadOnlySpan<byte> Nat64WellKnown => [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

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
            : IsLocalNat64(address) ? "a local-use NAT64 address (64:ff9b:1::/48), which carries an IPv4 address of the operator's choosing"
            : address.IsIPv6SiteLocal ? "a site-local address (fec0::/10)"
            : null;
    }
}

/// <summary>A connection refused because of the address it would reach (<see cref="EndpointAddresses"/>).</summary>
public sealed class EndpointAddressRefusedException(string message) : Exception(message)
{
    /// <summary>A host name refused for what it resolves to: every address it resolved to, then why each refused one is.</summary>
    public static EndpointAddressRefusedException Resolved(string host, IEnumerable<IPAddress> addresses, IEnumerable<string> why) =>
        new($"{host} resolves to {string.Join(", ", addresses)}: {string.Join("; ", why)}");
}
