namespace Tessera.Activation.Destinations;

/// <summary>
/// Where audiences go (docs/destinations.md): a connector type with its connection settings, the
/// activated audiences, how identities and attributes are mapped onto the destination's keys, the
/// marketing action it serves (for governance), the consent purpose it needs, and how often it is
/// sent: micro-batches for streaming connectors, a schedule for file exports.
/// </summary>
public sealed record Destination
{
    /// <summary>Catalog name (a letter, then letters, digits, '_' or '-'); what runs, the audit log and exported files are named by.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>webhook</c>, <c>file</c>, <c>meta</c>, <c>google</c>, <c>tiktok</c>, <c>ttd</c>, <c>linkedin</c>, <c>email</c> or <c>sms</c>.</summary>
    public string Connector { get; set; } = "";

    /// <summary>Connection settings; every HTTP connector needs <c>endpoint</c> (the base URL).</summary>
    public Dictionary<string, string> Settings { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The audiences sent, in activation order.</summary>
    public List<ActivatedAudience> Audiences { get; set; } = [];

    /// <summary>Identity namespaces sent, each under the destination's key and hashed as it says.</summary>
    public List<FieldMapping> Identities { get; set; } = [];

    /// <summary>Profile attributes sent (dotted paths on the merged profile), each under the destination's key.</summary>
    public List<FieldMapping> Attributes { get; set; } = [];

    /// <summary>The marketing action the destination serves (policies forbid labels for actions).</summary>
    public string? MarketingAction { get; set; }

    /// <summary>The consent purpose a profile must have given (<c>email</c>, <c>sms</c>, <c>personalization</c>, <c>adTargeting</c> or <c>none</c>); null: the connector's own.</summary>
    public string? Consent { get; set; }

    /// <summary>Streaming connectors: when a micro-batch is sent.</summary>
    public MicroBatchPolicy Batching { get; set; } = new();

    /// <summary>File connectors: when exports run and what they hold.</summary>
    public ExportSchedule? Schedule { get; set; }

    /// <summary>File connectors: format, folder, splitting, mandatory attributes and dedup key (docs/destinations-files.md).</summary>
    public Files.FileExportSettings? File { get; set; }

    /// <summary>A disabled destination keeps its place in the feed and sends nothing until enabled.</summary>
    public bool Enabled { get; set; } = true;

    public int Version { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>An audience activated to a destination; <see cref="ExternalId"/> is its id on the platform (Meta's custom audience id, ...).</summary>
public sealed record ActivatedAudience
{
    public string AudienceId { get; set; } = "";

    public string? ExternalId { get; set; }

    public DateTimeOffset ActivatedAt { get; set; }
}

/// <summary>One mapping: a source (an identity namespace or a profile path) sent under <see cref="Target"/>.</summary>
public sealed record FieldMapping
{
    public string Source { get; set; } = "";

    public string Target { get; set; } = "";

    /// <summary>Webhook and file destinations: <c>none</c> (the default) or <c>sha256</c> (lowercase hex of the stored value). Platform connectors hash by the platform's own rules.</summary>
    public string Hash { get; set; } = "none";
}

/// <summary>A streaming destination's micro-batch: sent when it holds <see cref="MaxRecords"/> or its oldest change is <see cref="MaxAgeSeconds"/> old.</summary>
public sealed record MicroBatchPolicy
{
    public int MaxRecords { get; set; } = 1_000;

    public int MaxAgeSeconds { get; set; } = 10;
}

/// <summary>
/// When a file destination exports: <c>once</c>, <c>daily</c> at <see cref="At"/> (UTC), or every
/// 3, 6, 8 or 12 hours from <see cref="At"/>; <c>full</c> exports every current member, <c>incremental</c>
/// the changes since the previous export.
/// </summary>
public sealed record ExportSchedule
{
    public string Frequency { get; set; } = "daily";

    /// <summary>Time of day, <c>HH:mm</c> UTC.</summary>
    public string At { get; set; } = "00:00";

    public string Mode { get; set; } = "full";
}
