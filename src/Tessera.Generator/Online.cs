using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Tessera.Generator;

internal enum DeviceKind
{
    Web,
    Ios,
    Android,
}

/// <summary>A browser or app install, a pure function of (seed, customer index, slot).</summary>
internal readonly record struct Device(string Ecid, DeviceKind Kind, string? AdId, bool ZeroedIdfa, int Owner, bool LogsIn, int SharedWith, int Events)
{
    public const int AnonymousSlot = 4;

    /// <summary>Slot 0-1: the customer's own devices; slot <see cref="AnonymousSlot"/>: a visitor's that never logs in.</summary>
    public static Device Of(int seed, int profiles, int customer, int slot)
    {
        var rng = Rng.For(seed, Rng.Stream.Device, (long)customer * 8 + slot);
        var ecid = $"{rng.NextUInt64() % 10_000_000_000_000_000_000UL:D19}{rng.NextUInt64() % 10_000_000_000_000_000_000UL:D19}";
        var roll = rng.NextDouble();
        var kind = roll < 0.65 ? DeviceKind.Web : roll < 0.85 ? DeviceKind.Ios : DeviceKind.Android;
        string? adId = null;
        var zeroed = false;
        if (kind == DeviceKind.Ios)
        {
            zeroed = rng.Chance(0.04);
            adId = zeroed ? "00000000-0000-0000-0000-000000000000" : Uuid(ref rng).ToUpperInvariant();
        }
        else if (kind == DeviceKind.Android)
        {
            adId = Uuid(ref rng);
        }
        var owned = slot < AnonymousSlot;
        var logsIn = owned && rng.Chance(0.7);
        var shared = logsIn && profiles > 1 && rng.Chance(0.03) ? 1 + (customer + rng.Next(profiles - 1)) % profiles : 0;
        roll = rng.NextDouble();
        var events = roll < 0.5 ? rng.Next(1, 3) : roll < 0.85 ? rng.Next(3, 7) : roll < 0.98 ? rng.Next(7, 16) : rng.Next(16, 41);
        if (logsIn)
        {
            events = Math.Max(events, 2) + (shared > 0 ? 2 : 0);
        }
        return new Device(ecid, kind, adId, zeroed, owned ? customer : 0, logsIn, shared, events);
    }

    public static string Uuid(ref Rng rng)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, rng.NextUInt64());
        BitConverter.TryWriteBytes(bytes[8..], rng.NextUInt64());
        return new Guid(bytes).ToString();
    }
}

/// <summary>One planned online event; serialized by <see cref="OnlineEvents.Write"/>.</summary>
internal readonly record struct OnlineEvent(
    string Id, DateTimeOffset Time, string Type, Device Device, int Login, Product? Product, int Quantity, string? OrderId,
    string? Query, string? Invalid, bool Duplicate, bool Late);

/// <summary>
/// The online part: every device's events in device order, re-sent duplicates a few hundred events
/// after their original, and the late events last. Only a small queue of pending duplicates is kept.
/// </summary>
internal sealed class OnlineEvents(RetailOptions options, Pools pools)
{
    public const string MissingTimestamp = "missing-timestamp";
    public const string UnknownEventType = "unknown-event-type";
    public const string MalformedTimestamp = "malformed-timestamp";
    public const string NegativePrice = "negative-price";
    public const string NoIdentity = "no-identity";

    private const int DuplicateDelay = 300;

    public static readonly IReadOnlyDictionary<string, string> Codes = new Dictionary<string, string>
    {
        [MissingTimestamp] = "REQUIRED_MISSING",
        [UnknownEventType] = "ENUM_VIOLATION",
        [MalformedTimestamp] = "FORMAT_INVALID",
        [NegativePrice] = "BELOW_MINIMUM",
        [NoIdentity] = "NO_PRIMARY_IDENTITY",
    };

    private static readonly string[] InvalidReasons = [MissingTimestamp, UnknownEventType, MalformedTimestamp, NegativePrice, NoIdentity];
    private static readonly string[] WebTypes = ["page.view", "page.view", "page.view", "product.view", "product.view", "product.view", "search", "cart.add", "cart.add", "checkout"];
    private static readonly string[] AppTypes = ["screen.view", "screen.view", "product.view", "product.view", "product.view", "search", "cart.add", "cart.add", "checkout", "app.open"];
    private static readonly string[] Queries = ["running shoes", "gift card", "winter jacket", "coffee maker", "headphones", "kids toys", "yoga mat", "sale"];

    public IEnumerable<OnlineEvent> Plan()
    {
        var seed = options.Seed;
        var pending = new Queue<(OnlineEvent Event, long Due)>();
        long emitted = 0;
        var times = new List<DateTimeOffset>(64);
        for (var customer = 1; customer <= options.Profiles; customer++)
        {
            var (owned, anonymous) = Customer.DevicesOf(seed, customer);
            for (var slot = 0; slot <= Device.AnonymousSlot; slot++)
            {
                if (slot >= owned && (slot < Device.AnonymousSlot || !anonymous))
                {
                    continue;
                }
                var device = Device.Of(seed, options.Profiles, customer, slot);
                var rng = Rng.For(seed, Rng.Stream.Online, (long)customer * 8 + slot);
                var login = device.LogsIn ? rng.Next(1, device.Events - (device.SharedWith > 0 ? 2 : 0)) : -1;
                var secondLogin = device.SharedWith > 0 ? device.Events - 1 : -1;
                // The last event somewhere in the last 30 days, recent ones more likely; the others before it.
                var u = rng.NextDouble();
                var end = options.Now - TimeSpan.FromSeconds(Math.Floor(u * u * 30 * 86_400));
                times.Clear();
                var t = end;
                for (var k = 0; k < device.Events; k++)
                {
                    times.Add(t);
                    t -= TimeSpan.FromSeconds(rng.Next(20, 3 * 3600));
                }
                times.Reverse();
                for (var k = 0; k < device.Events; k++)
                {
                    var isLogin = k == login || k == secondLogin;
                    var type = isLogin ? "login"
                        : k == 0 ? (device.Kind == DeviceKind.Web ? "page.view" : "app.open")
                        : rng.Pick(device.Kind == DeviceKind.Web ? WebTypes : AppTypes);
                    string? invalid = null;
                    if (!isLogin && rng.Chance(0.006))
                    {
                        invalid = rng.Pick(InvalidReasons);
                        if (invalid == NegativePrice)
                        {
                            type = "product.view";
                        }
                    }
                    var product = type is "product.view" or "cart.add" or "checkout" ? rng.Pick(pools.Products) : null;
                    var quantity = type is "cart.add" or "checkout" ? rng.Next(1, 4) : 1;
                    var query = type == "search" ? rng.Pick(Queries) : null;
                    var orderId = type == "checkout" ? $"W{device.Ecid[..8]}{k:D2}" : null;
                    var e = new OnlineEvent(Device.Uuid(ref rng), times[k], type, device, k == login ? customer : k == secondLogin ? device.SharedWith : 0,
                        product, quantity, orderId, query, invalid, false, false);
                    yield return e;
                    emitted++;
                    if (invalid is null && rng.Chance(0.01))
                    {
                        pending.Enqueue((e with { Duplicate = true }, emitted + DuplicateDelay));
                    }
                    while (pending.Count > 0 && pending.Peek().Due <= emitted)
                    {
                        yield return pending.Dequeue().Event;
                        emitted++;
                    }
                }
            }
        }
        while (pending.Count > 0)
        {
            yield return pending.Dequeue().Event;
        }
        // Late events: sent last, stamped days before anything else the device sent (app events queued offline).
        for (var customer = 1; customer <= options.Profiles; customer++)
        {
            var (owned, _) = Customer.DevicesOf(seed, customer);
            for (var slot = 0; slot < owned; slot++)
            {
                var rng = Rng.For(seed, Rng.Stream.Late, (long)customer * 8 + slot);
                if (!rng.Chance(0.04))
                {
                    continue;
                }
                var device = Device.Of(seed, options.Profiles, customer, slot);
                var time = options.Now - TimeSpan.FromSeconds(rng.Next(36 * 86_400, 50 * 86_400));
                yield return new OnlineEvent(Device.Uuid(ref rng), time, device.Kind == DeviceKind.Web ? "page.view" : "app.open", device, 0,
                    null, 1, null, null, null, false, true);
            }
        }
    }

    public OnlineSummary Summarize(string? path) => Summarize(path, Plan());

    private OnlineSummary Summarize(string? path, IEnumerable<OnlineEvent> plan)
    {
        long events = 0, duplicates = 0, late = 0, logins = 0, dropped = 0;
        var invalid = new Tally();
        long devices = 0, web = 0, app = 0, loggingIn = 0, shared = 0, anonymous = 0, zeroed = 0;
        foreach (var e in plan)
        {
            events++;
            if (e.Invalid is { } reason)
            {
                invalid.Invalid(reason, Codes[reason]);
                continue;
            }
            duplicates += e.Duplicate ? 1 : 0;
            late += e.Late ? 1 : 0;
            logins += e.Login > 0 && !e.Duplicate ? 1 : 0;
            dropped += e.Device.ZeroedIdfa ? 1 : 0;
        }
        for (var customer = 1; customer <= options.Profiles; customer++)
        {
            var (owned, visitor) = Customer.DevicesOf(options.Seed, customer);
            for (var slot = 0; slot <= Device.AnonymousSlot; slot++)
            {
                if (slot >= owned && (slot < Device.AnonymousSlot || !visitor))
                {
                    continue;
                }
                var device = Device.Of(options.Seed, options.Profiles, customer, slot);
                devices++;
                web += device.Kind == DeviceKind.Web ? 1 : 0;
                app += device.Kind == DeviceKind.Web ? 0 : 1;
                loggingIn += device.LogsIn ? 1 : 0;
                shared += device.SharedWith > 0 ? 1 : 0;
                anonymous += device.LogsIn ? 0 : 1;
                zeroed += device.ZeroedIdfa ? 1 : 0;
            }
        }
        return new OnlineSummary
        {
            Dataset = RetailSchemas.WebEventsDataset,
            Schema = RetailSchemas.WebEventName,
            Path = path,
            Events = events,
            Accepted = events - invalid.Failed,
            Failed = invalid.Failed,
            Duplicates = duplicates,
            Late = late,
            Logins = logins,
            IdentitiesDropped = dropped,
            Devices = devices,
            WebDevices = web,
            AppDevices = app,
            DevicesLoggingIn = loggingIn,
            SharedDevices = shared,
            AnonymousDevices = anonymous,
            ZeroedIdfaDevices = zeroed,
            Invalid = invalid.InvalidCounts,
        };
    }

    /// <summary>One event as compact JSON (the collection endpoint's and the JSON Lines file's form).</summary>
    public void Write(in OnlineEvent e, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("_id", e.Id);
        switch (e.Invalid)
        {
            case MissingTimestamp:
                break;
            case MalformedTimestamp:
                json.WriteString("timestamp", e.Time.UtcDateTime.ToString("d/M/yyyy HH:mm", CultureInfo.InvariantCulture));
                break;
            default:
                json.WriteString("timestamp", e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
                break;
        }
        json.WriteString("eventType", e.Invalid == UnknownEventType ? "page.scroll" : e.Type);
        json.WriteString("channel", e.Device.Kind switch { DeviceKind.Ios => "ios", DeviceKind.Android => "android", _ => "web" });
        var page = e.Type switch
        {
            "product.view" or "cart.add" => "product",
            "search" => "search",
            "checkout" => "checkout",
            "login" => "account",
            _ => "home",
        };
        json.WriteStartObject("page");
        json.WriteString("url", page == "product" ? $"https://shop.example.com/p/{e.Product!.Id}" : $"https://shop.example.com/{page}");
        json.WriteString("name", page);
        json.WriteEndObject();
        if (e.Product is { } product)
        {
            json.WriteStartObject("commerce");
            json.WriteString("productId", product.Id);
            json.WriteString("productName", product.Name);
            json.WriteNumber("price", e.Invalid == NegativePrice ? -product.Price : product.Price);
            json.WriteNumber("quantity", e.Quantity);
            if (e.OrderId is { } orderId)
            {
                json.WriteString("orderId", orderId);
                json.WriteNumber("total", Math.Round(product.Price * e.Quantity, 2));
            }
            json.WriteEndObject();
        }
        if (e.Query is { } query)
        {
            json.WriteStartObject("search");
            json.WriteString("query", query);
            json.WriteEndObject();
        }
        if (e.Invalid != NoIdentity)
        {
            json.WriteStartObject("identityMap");
            Identity(json, "ECID", e.Device.Ecid, primary: true);
            if (e.Device.AdId is { } adId)
            {
                Identity(json, e.Device.Kind == DeviceKind.Ios ? "IDFA" : "GAID", adId, primary: false);
            }
            if (e.Login > 0)
            {
                if (e.Device.Kind == DeviceKind.Web)
                {
                    Identity(json, "Email", Customer.Of(options.Seed, pools, e.Login, options.Now).Email, primary: false);
                }
                else
                {
                    Identity(json, "CRMID", Customer.CrmIdOf(e.Login), primary: false);
                }
            }
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    /// <summary>The events as JSON array request bodies of at most <paramref name="perRequest"/> events.</summary>
    public IEnumerable<string> Requests(int perRequest)
    {
        var buffer = new ArrayBufferWriter<byte>(1 << 16);
        using var json = new Utf8JsonWriter(buffer);
        var count = 0;
        foreach (var e in Plan())
        {
            if (count == 0)
            {
                json.Reset(buffer);
                json.WriteStartArray();
            }
            Write(e, json);
            if (++count == perRequest)
            {
                json.WriteEndArray();
                json.Flush();
                yield return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
                buffer.ResetWrittenCount();
                count = 0;
            }
        }
        if (count > 0)
        {
            json.WriteEndArray();
            json.Flush();
            yield return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }

    /// <summary>The same events as JSON Lines, counted as they are written.</summary>
    public OnlineSummary WriteLines(string path, string relativePath)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new ArrayBufferWriter<byte>(1 << 12);
        using var json = new Utf8JsonWriter(buffer);
        return Summarize(relativePath, Written(file, buffer, json));
    }

    private IEnumerable<OnlineEvent> Written(FileStream file, ArrayBufferWriter<byte> buffer, Utf8JsonWriter json)
    {
        foreach (var e in Plan())
        {
            Write(e, json);
            json.Flush();
            file.Write(buffer.WrittenSpan);
            file.WriteByte((byte)'\n');
            buffer.ResetWrittenCount();
            json.Reset(buffer);
            yield return e;
        }
    }

    private static void Identity(Utf8JsonWriter json, string ns, string id, bool primary)
    {
        json.WriteStartArray(ns);
        json.WriteStartObject();
        json.WriteString("id", id);
        if (primary)
        {
            json.WriteBoolean("primary", true);
        }
        json.WriteEndObject();
        json.WriteEndArray();
    }
}
