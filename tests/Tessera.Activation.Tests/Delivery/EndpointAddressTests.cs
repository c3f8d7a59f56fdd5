using System.Net;
using Tessera.Abstractions;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;
using Tessera.Tests.Shared;

namespace Tessera.Activation.Tests.Delivery;

/// <summary>
/// Destinations may not reach into the server's network (server-side request forgery): link-local and cloud metadata
/// addresses never, loopback and private ones only inside activation.allowedPrivateNetworks; checked on the URL when a
/// destination is saved and on the address connected to (after DNS, on redirects) when delivering.
/// </summary>
public sealed class EndpointAddressTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("169.254.169.254", "cloud metadata")]
    [InlineData("fd00:ec2::254", "cloud metadata")]
    [InlineData("100.100.100.200", "cloud metadata")]
    [InlineData("169.254.10.1", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("::ffff:169.254.169.254", "cloud metadata")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("64:ff9b::a9fe:a9fe", "a NAT64 address (64:ff9b::/96) of 169.254.169.254, and 169.254.169.254 is a cloud metadata")]
    [InlineData("64:ff9b::169.254.10.1", "NAT64 address (64:ff9b::/96) of 169.254.10.1, and 169.254.10.1 is a link-local")]
    [InlineData("2002:a9fe:a9fe::1", "a 6to4 address (2002::/16) of 169.254.169.254, and 169.254.169.254 is a cloud metadata")]
    [InlineData("2001:0:4136:e378:8000:63bf:5601:5601", "a Teredo address (2001::/32) of 169.254.169.254, and 169.254.169.254 is a cloud metadata")]
    [InlineData("::169.254.169.254", "an IPv4-compatible address (::/96) of 169.254.169.254, and 169.254.169.254 is a cloud metadata")]
    [InlineData("::5", "IPv4-compatible address (::/96) of 0.0.0.5, and 0.0.0.5 is an unspecified")]
    public void Link_local_metadata_and_unspecified_addresses_are_refused_whatever_networks_are_allowed(string address, string why)
    {
        var everything = new EndpointAddresses(["0.0.0.0/0", "::/0"]);
        var refusal = everything.Refusal(IPAddress.Parse(address));
        Assert.NotNull(refusal);
        Assert.Contains(why, refusal, StringComparison.Ordinal);
        Assert.Contains("never allowed", refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.0/8", "loopback")]
    [InlineData("127.5.6.7", "127.0.0.0/8", "loopback")]
    [InlineData("::1", "::1/128", "loopback")]
    [InlineData("::ffff:127.0.0.1", "127.0.0.1/32", "loopback")]
    [InlineData("10.1.2.3", "10.0.0.0/8", "RFC 1918")]
    [InlineData("172.16.0.1", "172.16.0.0/12", "RFC 1918")]
    [InlineData("172.31.255.255", "172.16.0.0/12", "RFC 1918")]
    [InlineData("192.168.1.10", "192.168.1.0/24", "RFC 1918")]
    [InlineData("100.64.0.1", "100.64.0.0/10", "carrier-grade NAT")]
    [InlineData("100.127.255.254", "100.64.0.0/10", "carrier-grade NAT")]
    [InlineData("fd12:3456::1", "fd12:3456::/32", "unique local")]
    [InlineData("64:ff9b::7f00:1", "127.0.0.0/8", "NAT64 address (64:ff9b::/96) of 127.0.0.1, and 127.0.0.1 is a loopback")]
    [InlineData("64:ff9b::10.1.2.3", "10.0.0.0/8", "NAT64 address (64:ff9b::/96) of 10.1.2.3, and 10.1.2.3 is a private address")]
    [InlineData("2002:c0a8:10a::", "192.168.0.0/16", "6to4 address (2002::/16) of 192.168.1.10, and 192.168.1.10 is a private")]
    [InlineData("64:ff9b:1::a00:1", "64:ff9b:1::/48", "local-use NAT64")]
    public void Loopback_and_private_addresses_are_refused_unless_a_listed_network_holds_them(string address, string network, string why)
    {
        var ip = IPAddress.Parse(address);
        var refusal = new EndpointAddresses([]).Refusal(ip);
        Assert.NotNull(refusal);
        Assert.Contains(why, refusal, StringComparison.Ordinal);
        Assert.Contains("activation.allowedPrivateNetworks", refusal, StringComparison.Ordinal);
        Assert.Null(new EndpointAddresses([network]).Refusal(ip));
        // Another private network does not open this one.
        Assert.NotNull(new EndpointAddresses(["192.0.2.0/24"]).Refusal(ip));
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("169.255.0.1")]
    [InlineData("2001:4860:4860::8888")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("2002:808:808::1")]
    [InlineData("2001:0:4136:e378:8000:63bf:f7f7:f7f7")]
    [InlineData("64:ff9b:2::1")]
    public void Public_addresses_are_allowed(string address) =>
        Assert.Null(new EndpointAddresses([]).Refusal(IPAddress.Parse(address)));

    [Fact]
    public void A_network_that_is_not_a_CIDR_block_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<FormatException>(() => new EndpointAddresses(["10.0.0.0/8", "ten.0.0.0/8"]));
        Assert.Contains("activation.allowedPrivateNetworks: 'ten.0.0.0/8' is not a CIDR block", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workspace_whose_allowed_networks_are_not_CIDR_blocks_is_CONFIG_INVALID()
    {
        var directory = Directory.CreateTempSubdirectory("tessera-networks-config-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, Server.Workspace.ConfigFile), """{"activation": {"allowedPrivateNetworks": ["10.0.0.0/8", "office"]}}""", Token);
            var error = await Assert.ThrowsAsync<CatalogException>(() => Server.Workspace.OpenAsync(directory));
            Assert.Equal("CONFIG_INVALID", error.Code);
            Assert.Contains("activation.allowedPrivateNetworks: 'office' is not a CIDR block", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata service's address (never allowed)")]
    [InlineData("http://[fd00:ec2::254]/latest/", "fd00:ec2::254 is a cloud metadata service's address (never allowed)")]
    [InlineData("http://[fe80::1]:8080/", "fe80::1 is a link-local address (never allowed)")]
    [InlineData("http://127.0.0.1:9/", "127.0.0.1 is a loopback address (allowed only in a network listed in activation.allowedPrivateNetworks")]
    [InlineData("https://10.0.0.5/hook", "10.0.0.5 is a private address (RFC 1918)")]
    [InlineData("http://100.64.1.1/", "100.64.1.1 is a carrier-grade NAT address")]
    [InlineData("http://[fd12::5]/", "fd12::5 is a unique local address")]
    [InlineData("http://[::ffff:127.0.0.1]/", "127.0.0.1 is a loopback address")]
    [InlineData("http://localhost:9/", "localhost is the loopback interface")]
    [InlineData("http://api.localhost/", "api.localhost is the loopback interface")]
    public async Task A_destination_whose_endpoint_is_inside_the_network_is_DESTINATION_INVALID_naming_the_setting_and_rule(string endpoint, string rule)
    {
        await using var ws = await ActivationWorkspace.CreateAsync(new ActivationSettings());
        var error = await Assert.ThrowsAsync<CatalogException>(() =>
            ws.Activation.CreateAsync("prod", ws.Webhook(new Uri("http://192.0.2.1/")) with { Settings = new(StringComparer.Ordinal) { ["endpoint"] = endpoint } }, Token));
        Assert.Equal("DESTINATION_INVALID", error.Code);
        Assert.Contains("settings.endpoint may not point inside the server's network", error.Message, StringComparison.Ordinal);
        Assert.Contains(rule, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Allowed_networks_open_loopback_and_private_endpoints_but_never_the_metadata_service()
    {
        await using var ws = await ActivationWorkspace.CreateAsync(new ActivationSettings { AllowedPrivateNetworks = ["127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16"] });
        var hook = ws.Webhook(new Uri("http://192.0.2.1/"));
        await ws.Activation.CreateAsync("prod", hook with { Name = "loopback", Settings = new(StringComparer.Ordinal) { ["endpoint"] = "http://127.0.0.1:9/" } }, Token);
        await ws.Activation.CreateAsync("prod", hook with { Name = "named", Settings = new(StringComparer.Ordinal) { ["endpoint"] = "http://localhost:9/" } }, Token);
        await ws.Activation.CreateAsync("prod", hook with { Name = "private", Settings = new(StringComparer.Ordinal) { ["endpoint"] = "https://10.1.1.1/hook" } }, Token);
        var error = await Assert.ThrowsAsync<CatalogException>(() =>
            ws.Activation.CreateAsync("prod", hook with { Name = "metadata", Settings = new(StringComparer.Ordinal) { ["endpoint"] = "http://169.254.169.254/" } }, Token));
        Assert.Contains("never allowed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_path_that_is_a_URL_of_its_own_is_DESTINATION_INVALID()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        var hook = ws.Webhook(new Uri("http://192.0.2.1/"));
        foreach (var path in new[] { "http://169.254.169.254/latest", "\\\\169.254.169.254/latest" })
        {
            var error = await Assert.ThrowsAsync<CatalogException>(() =>
                ws.Activation.CreateAsync("prod", hook with { Settings = new(hook.Settings, StringComparer.Ordinal) { ["path"] = path } }, Token));
            Assert.Contains("settings.path", error.Message, StringComparison.Ordinal);
        }
        await ws.Activation.CreateAsync("prod", hook with { Settings = new(hook.Settings, StringComparer.Ordinal) { ["path"] = "/v2/hooks?x=1" } }, Token);
    }

    [Fact]
    public async Task A_host_name_that_resolves_to_loopback_is_refused_when_connecting_and_not_retried()
    {
        await using var receiver = await LocalReceiver.StartAsync(Token);
        // Saved through the catalog this URL would be refused by name; a name that resolves to loopback only in DNS
        // reaches the sender the same way, so the sender is given it directly.
        var destination = Named(new Uri($"http://localhost:{receiver.Address.Port}/"));
        var settings = new ActivationSettings { MaxAttempts = 3, RetryBaseDelayMilliseconds = 1 };

        using (var sender = new HttpSender(destination, settings, TimeProvider.System))
        {
            var refused = await sender.SendAsync(Request(), "k1", Token);
            Assert.Equal(SendOutcome.Permanent, refused.Outcome);
            Assert.Equal(0, refused.Retries);
            Assert.StartsWith("ENDPOINT_ADDRESS_REFUSED: localhost resolves to ", refused.Error, StringComparison.Ordinal);
            Assert.Contains("is a loopback address", refused.Error, StringComparison.Ordinal);
        }
        Assert.Empty(receiver.Requests);

        using (var sender = new HttpSender(destination, settings with { AllowedPrivateNetworks = ["127.0.0.0/8", "::1/128"] }, TimeProvider.System))
        {
            Assert.Equal(SendOutcome.Delivered, (await sender.SendAsync(Request(), "k2", Token)).Outcome);
        }
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task A_literal_address_is_checked_when_connecting_too()
    {
        await using var receiver = await LocalReceiver.StartAsync(Token);
        using var sender = new HttpSender(Named(receiver.Address), new ActivationSettings { MaxAttempts = 2 }, TimeProvider.System);
        var refused = await sender.SendAsync(Request(), "k1", Token);
        Assert.Equal(SendOutcome.Permanent, refused.Outcome);
        Assert.StartsWith("ENDPOINT_ADDRESS_REFUSED: 127.0.0.1: 127.0.0.1 is a loopback address", refused.Error, StringComparison.Ordinal);
        Assert.Empty(receiver.Requests);
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(303)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task A_redirect_is_not_followed_and_fails_for_good_naming_where_it_points(int status)
    {
        // Followed, a 301-303 turned the POST into a GET without its body, and a 200 to that counted as delivered; any
        // redirect could point at the metadata service, or take the destination's API key header elsewhere.
        await using var receiver = await LocalReceiver.StartAsync(Token);
        receiver.Respond = n => n == 1 ? (status, null) : (200, null); // the redirect's target would answer 200
        receiver.Location = _ => new Uri(receiver.Address, "/moved/").ToString();
        using var sender = new HttpSender(Named(receiver.Address), new ActivationSettings { MaxAttempts = 2, AllowedPrivateNetworks = ["127.0.0.0/8"] }, TimeProvider.System);

        var result = await sender.SendAsync(Request(), "k1", Token);

        Assert.Equal((SendOutcome.Permanent, status, 0), (result.Outcome, result.StatusCode, result.Retries));
        Assert.Contains($" to {new Uri(receiver.Address, "/moved/")}: redirects are not followed; set the destination's endpoint to where it points",
            result.Error, StringComparison.Ordinal);
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task A_destination_saved_while_allowed_is_dead_lettered_once_its_network_no_longer_is()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        await ws.CustomersAsync(Enumerable.Range(1, 4), _ => "gold");
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address), Token);
        // As after tessera.json lost the network and the server started again.
        ws.Settings.AllowedPrivateNetworks.Clear();

        var run = Assert.Single(await ws.Activation.DrainAsync("prod", "hook", Token));
        Assert.Equal(RunStatuses.DeadLettered, run.Status);
        Assert.Empty(receiver.Requests);
        var letter = Assert.Single(ws.Activation.Log.DeadLetters("prod", "hook"));
        Assert.Contains("ENDPOINT_ADDRESS_REFUSED", letter.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Through_a_proxy_a_request_is_sent_to_the_proxy_and_its_host_checked_first()
    {
        await using var proxy = await LocalReceiver.StartAsync(Token);
        // The proxy is the operator's choice (tessera.json), so its own loopback address needs no allowed network.
        var settings = new ActivationSettings { MaxAttempts = 2, RetryBaseDelayMilliseconds = 1, AttemptTimeoutSeconds = 5, Proxy = proxy.Address.ToString() };
        using (var sender = new HttpSender(Named(new Uri("http://192.0.2.10/hook")), settings, TimeProvider.System))
        {
            Assert.Equal(SendOutcome.Delivered, (await sender.SendAsync(Request(), "k1", Token)).Outcome);
        }
        Assert.Equal("/hook/", Assert.Single(proxy.Requests).Path); // the destination at 192.0.2.10 itself is unreachable here

        foreach (var (endpoint, refusal) in new[]
        {
            ("http://169.254.169.254/latest/", "ENDPOINT_ADDRESS_REFUSED: 169.254.169.254: 169.254.169.254 is a cloud metadata service's address (never allowed)"),
            ("http://localhost:9/", "ENDPOINT_ADDRESS_REFUSED: localhost: localhost is the loopback interface"),
            ("http://[64:ff9b::a00:1]/", "ENDPOINT_ADDRESS_REFUSED: 64:ff9b::a00:1: 64:ff9b::a00:1 is a NAT64 address (64:ff9b::/96) of 10.0.0.1"),
        })
        {
            using var sender = new HttpSender(Named(new Uri(endpoint)), settings, TimeProvider.System);
            var refused = await sender.SendAsync(Request(), "k2", Token);
            Assert.Equal(SendOutcome.Permanent, refused.Outcome);
            Assert.Equal(0, refused.Retries);
            Assert.StartsWith(refusal, refused.Error, StringComparison.Ordinal);
        }
        Assert.Single(proxy.Requests);
    }

    [Fact]
    public async Task Through_a_proxy_a_redirect_is_not_followed()
    {
        await using var proxy = await LocalReceiver.StartAsync(Token);
        proxy.Respond = _ => (307, null);
        proxy.Location = _ => "http://169.254.169.254/latest/meta-data/";
        using var sender = new HttpSender(Named(new Uri("http://192.0.2.10/hook")), new ActivationSettings { MaxAttempts = 1, Proxy = proxy.Address.ToString() }, TimeProvider.System);
        var result = await sender.SendAsync(Request(), "k1", Token);
        Assert.Equal(SendOutcome.Permanent, result.Outcome);
        Assert.Equal(307, result.StatusCode);
        Assert.Single(proxy.Requests);
    }

    [Theory]
    [InlineData("proxy.internal:3128", "is not an http:// or https:// URL")]
    [InlineData("socks5://127.0.0.1:1080", "is not an http:// or https:// URL")]
    [InlineData("http://user:secret@proxy.internal:3128", "may name only a scheme, a host and a port")]
    [InlineData("http://proxy.internal:3128/path", "may name only a scheme, a host and a port")]
    public async Task A_workspace_whose_proxy_is_not_an_HTTP_proxy_URL_is_CONFIG_INVALID(string proxy, string problem)
    {
        var directory = Directory.CreateTempSubdirectory("tessera-proxy-config-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, Server.Workspace.ConfigFile),
                System.Text.Json.JsonSerializer.Serialize(new { activation = new { proxy } }), Token);
            var error = await Assert.ThrowsAsync<CatalogException>(() => Server.Workspace.OpenAsync(directory));
            Assert.Equal("CONFIG_INVALID", error.Code);
            Assert.Contains($"activation.proxy '{proxy}' {problem}", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Destination Named(Uri endpoint) => new()
    {
        Name = "hook",
        Connector = "webhook",
        Settings = new(StringComparer.Ordinal) { ["endpoint"] = endpoint.ToString() },
    };

    private static OutgoingRequest Request() => new(HttpMethod.Post, "", "application/json", "{}"u8.ToArray(), 1);
}
