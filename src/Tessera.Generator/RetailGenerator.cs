using System.Diagnostics;

namespace Tessera.Generator;

/// <summary>
/// Sample data of an omnichannel retailer, seeded and deterministic: a CRM export, loyalty
/// accounts, point-of-sale and e-commerce orders (files), and web and app events (HTTP request
/// bodies or JSON Lines), with the defects real data has — junk emails, duplicates, late events,
/// shared devices and a small share of invalid rows — counted exactly in <see cref="GeneratedData"/>.
/// Everything streams: memory does not grow with <see cref="RetailOptions.Profiles"/>.
/// </summary>
/// <remarks>
/// Files written by <see cref="WriteOffline"/> (paths relative to the directory):
/// <list type="bullet">
/// <item><c>crm_customers.csv</c> — comma, header: crm_id (8 digits), email, phone (US, mixed formats), first_name, last_name,
/// birth_date (M/d/yyyy), street, city, state, zip, country, email_optin (yes/no), sms_optin (true/false), ads_optin (Y/N), updated (yyyyMMddHHmmss).</item>
/// <item><c>loyalty_accounts.jsonl</c> — loyaltyId (11 digits), crmId, tier, points, enrolledOn (yyyy-MM-dd), updatedAt (ISO).</item>
/// <item><c>pos_orders.csv</c> — semicolon, header: order_no, order_date (M/d/yyyy h:mm:ss tt), store_id, crm_id, loyalty_card, channel, items, amount, currency.</item>
/// <item><c>web_orders.parquet</c> — order_id, ordered_at (timestamp), crm_id, email, ecid, channel (web/app), items, total, currency.</item>
/// <item><c>schemas/*.json</c>, <c>mappings/*.json</c> (<see cref="RetailSchemas"/>) and <c>manifest.json</c> (<see cref="GeneratedData"/>).</item>
/// </list>
/// </remarks>
public sealed class RetailGenerator
{
    public const string WebEventsFile = "web_events.jsonl";

    private readonly Pools _pools;
    private readonly OnlineEvents _online;
    private OnlineSummary? _summary;

    public RetailGenerator(RetailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Profiles, RetailOptions.MinProfiles, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Profiles, RetailOptions.MaxProfiles, nameof(options));
        // Whole seconds: every written timestamp is whole seconds too, whatever the clock said.
        Options = options with { Now = new DateTimeOffset(options.Now.UtcTicks - options.Now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero) };
        _pools = new Pools(options.Seed);
        _online = new OnlineEvents(Options, _pools);
    }

    public RetailOptions Options { get; }

    /// <summary>The schemas, in registration order, with the datasets that use them.</summary>
    public static IReadOnlyList<(GeneratedSchema Schema, string Json)> SchemaDocuments { get; } =
    [
        (new(RetailSchemas.CrmProfileName, "profile", "schemas/crm-profile.json"), RetailSchemas.CrmProfile),
        (new(RetailSchemas.LoyaltyAccountName, "profile", "schemas/loyalty-account.json"), RetailSchemas.LoyaltyAccount),
        (new(RetailSchemas.RetailOrderName, "event", "schemas/retail-order.json"), RetailSchemas.RetailOrder),
        (new(RetailSchemas.WebEventName, "event", "schemas/web-event.json"), RetailSchemas.WebEvent),
    ];

    public static IReadOnlyList<GeneratedDataset> Datasets { get; } =
    [
        new(RetailSchemas.CrmDataset, RetailSchemas.CrmProfileName, "profile", null),
        new(RetailSchemas.LoyaltyDataset, RetailSchemas.LoyaltyAccountName, "profile", null),
        new(RetailSchemas.PosOrdersDataset, RetailSchemas.RetailOrderName, "event", null),
        new(RetailSchemas.WebOrdersDataset, RetailSchemas.RetailOrderName, "event", null),
        new(RetailSchemas.WebEventsDataset, RetailSchemas.WebEventName, "event", 90),
    ];

    /// <summary>The online events' exact counts (one pass over the plan, nothing serialized; cached).</summary>
    public OnlineSummary Online => _summary ??= _online.Summarize(null);

    /// <summary>
    /// Writes the offline files, <c>schemas/</c>, <c>mappings/</c> and <c>manifest.json</c> into
    /// <paramref name="directory"/> (created if needed; files of the same names are replaced).
    /// The files are written in parallel.
    /// </summary>
    public GeneratedData WriteOffline(string directory) => Write(directory, online: false);

    /// <summary>
    /// Writes the online events as JSON Lines (<c>web_events.jsonl</c>, one event per line, in the
    /// order <see cref="OnlineEventBatches"/> sends them) and returns their counts with the path.
    /// </summary>
    public OnlineSummary WriteOnline(string directory)
    {
        Directory.CreateDirectory(directory);
        var summary = _online.WriteLines(Path.Combine(directory, WebEventsFile), WebEventsFile);
        _summary ??= summary with { Path = null };
        return summary;
    }

    /// <summary><see cref="WriteOffline"/> and <see cref="WriteOnline"/>; the manifest names <c>web_events.jsonl</c> too.</summary>
    public GeneratedData WriteAll(string directory) => Write(directory, online: true);

    /// <summary>
    /// The online events as request bodies for <c>POST /collection/v1/datasets/web/events</c>: JSON
    /// arrays of at most <paramref name="eventsPerRequest"/> events. Web and app events from
    /// anonymous device ids (ECID; app events also IDFA or GAID); some devices log in later (the
    /// login event carries the ECID and the person's Email on the web, CRMID in the apps), a few as
    /// two people (shared devices); about 1% of events are re-sent with the same <c>_id</c> some
    /// 300 events later, about 0.6% are invalid, and the late events (days older) come last.
    /// </summary>
    public IEnumerable<string> OnlineEventBatches(int eventsPerRequest)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(eventsPerRequest, 1);
        return _online.Requests(eventsPerRequest);
    }

    private GeneratedData Write(string directory, bool online)
    {
        Directory.CreateDirectory(directory);
        Directory.CreateDirectory(Path.Combine(directory, "schemas"));
        Directory.CreateDirectory(Path.Combine(directory, "mappings"));
        foreach (var (schema, json) in SchemaDocuments)
        {
            File.WriteAllText(Path.Combine(directory, schema.Path), json + "\n");
        }
        File.WriteAllText(Path.Combine(directory, "mappings", "crm.json"), RetailSchemas.CrmMapping + "\n");
        File.WriteAllText(Path.Combine(directory, "mappings", "pos-orders.json"), RetailSchemas.PosOrdersMapping + "\n");
        File.WriteAllText(Path.Combine(directory, "mappings", "web-orders.json"), RetailSchemas.WebOrdersMapping + "\n");

        var offline = new Offline(Options, _pools);
        var crm = Task.Run(() => offline.WriteCrm(directory));
        var loyalty = Task.Run(() => offline.WriteLoyalty(directory));
        var orders = Task.Run(() => offline.WriteOrdersAsync(directory));
        var summary = Task.Run(() => online ? WriteOnline(directory) : Online);
        Task.WaitAll(crm, loyalty, orders, summary);

        var data = new GeneratedData
        {
            Profiles = Options.Profiles,
            Seed = Options.Seed,
            Now = Options.Now,
            Schemas = [.. SchemaDocuments.Select(s => s.Schema)],
            Datasets = Datasets,
            Files = [crm.Result, loyalty.Result, orders.Result.Pos, orders.Result.Web],
            Online = summary.Result,
        };
        File.WriteAllText(Path.Combine(directory, GeneratedData.ManifestFile), data.ToJson() + "\n");
        Debug.Assert(data.Files.All(f => f.Rows >= f.Failed));
        return data;
    }
}
