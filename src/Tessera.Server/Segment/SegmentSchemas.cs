using Tessera.Abstractions;
using Tessera.Catalog;

namespace Tessera.Server.Segment;

/// <summary>
/// The built-in schemas that Segment-spec messages are stored under, and their registration in a
/// sandbox. Identities are not schema fields: every record carries an <c>identityMap</c> with the
/// Segment <c>userId</c> (namespace <see cref="SegmentBinding.UserIdNamespace"/>, primary) and
/// <c>anonymousId</c> (<see cref="SegmentBinding.AnonymousIdNamespace"/>, primary only without a userId).
/// </summary>
public static class SegmentSchemas
{
    public const string EventSchemaName = "segment-event";
    public const string ProfileSchemaName = "segment-profile";

    /// <summary>The values of <c>eventType</c> in the event dataset (identify goes to the profile dataset).</summary>
    public static IReadOnlyList<string> EventTypes { get; } = ["track", "page", "screen", "group", "alias"];

    private static readonly FieldDefinition Text = new() { Type = FieldType.String };
    private static readonly FieldDefinition Instant = new() { Type = FieldType.DateTime };
    private static readonly FieldDefinition Bag = new() { Type = FieldType.Object, Open = true };

    /// <summary>
    /// Track, page, screen, group and alias calls: <c>_id</c> (the messageId), <c>timestamp</c>,
    /// <c>eventType</c>, <c>event</c> (the track event, or the page/screen name), <c>category</c>,
    /// <c>userId</c>, <c>anonymousId</c>, <c>groupId</c>, <c>previousId</c>, free-form
    /// <c>properties</c>, <c>traits</c> and <c>context</c>, and <c>receivedAt</c>/<c>originalTimestamp</c>.
    /// </summary>
    public static SchemaDocument EventSchema { get; } = new()
    {
        Name = EventSchemaName,
        Class = SchemaClass.Event,
        Description = "Segment-spec track, page, screen, group and alias calls.",
        Fields = new Dictionary<string, FieldDefinition>
        {
            ["_id"] = new() { Type = FieldType.String, Required = true, Description = "Segment messageId (generated from the message when absent)." },
            ["timestamp"] = new() { Type = FieldType.DateTime, Required = true, Description = "When it happened, corrected for the sender's clock skew." },
            ["eventType"] = new() { Type = FieldType.String, Required = true, Enum = EventTypes },
            ["event"] = Text with { Description = "Event name (track) or page/screen name." },
            ["category"] = Text with { Description = "Page or screen category." },
            ["userId"] = Text,
            ["anonymousId"] = Text,
            ["groupId"] = Text with { Description = "Group calls: the group's id." },
            ["previousId"] = Text with { Description = "Alias calls: the identity being merged into userId." },
            ["properties"] = Bag,
            ["traits"] = Bag with { Description = "Group calls: the group's traits." },
            ["context"] = Bag,
            ["receivedAt"] = Instant with { Description = "When Tessera received the message." },
            ["originalTimestamp"] = Instant with { Description = "The sender's timestamp before clock-skew correction." },
        },
    };

    /// <summary>
    /// Identify calls: <c>userId</c>, <c>anonymousId</c>, free-form <c>traits</c> and <c>context</c>,
    /// <c>messageId</c>, <c>timestamp</c>, <c>receivedAt</c> and <c>originalTimestamp</c>.
    /// </summary>
    public static SchemaDocument ProfileSchema { get; } = new()
    {
        Name = ProfileSchemaName,
        Class = SchemaClass.Profile,
        Description = "Segment-spec identify calls (traits by user and anonymous id).",
        Fields = new Dictionary<string, FieldDefinition>
        {
            ["userId"] = Text,
            ["anonymousId"] = Text,
            ["traits"] = Bag,
            ["context"] = Bag,
            ["messageId"] = Text,
            ["timestamp"] = Instant,
            ["receivedAt"] = Instant,
            ["originalTimestamp"] = Instant,
        },
    };

    /// <summary>
    /// Registers the two schemas and the binding's datasets in <paramref name="sandbox"/> (and the
    /// binding's identity namespaces when they are not defined yet). Idempotent.
    /// </summary>
    public static async Task EnsureAsync(TesseraCatalog catalog, string sandbox, SegmentBinding binding)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(binding);
        catalog.RequireSandbox(sandbox);
        if (catalog.GetNamespace(sandbox, binding.UserIdNamespace) is null)
        {
            await catalog.CreateNamespaceAsync(sandbox, new IdentityNamespace
            {
                Code = binding.UserIdNamespace,
                Name = binding.UserIdNamespace,
                Type = IdentityType.CrossDevice,
                Description = "Segment userId.",
            }).ConfigureAwait(false);
        }
        if (catalog.GetNamespace(sandbox, binding.AnonymousIdNamespace) is null)
        {
            await catalog.CreateNamespaceAsync(sandbox, new IdentityNamespace
            {
                Code = binding.AnonymousIdNamespace,
                Name = binding.AnonymousIdNamespace,
                Type = IdentityType.Cookie,
                Description = "Segment anonymousId.",
            }).ConfigureAwait(false);
        }
        await catalog.RegisterSchemaAsync(sandbox, EventSchema).ConfigureAwait(false);
        await catalog.RegisterSchemaAsync(sandbox, ProfileSchema).ConfigureAwait(false);
        await catalog.CreateDatasetAsync(sandbox, new DatasetDefinition { Name = binding.EventDataset, Schema = EventSchemaName }).ConfigureAwait(false);
        await catalog.CreateDatasetAsync(sandbox, new DatasetDefinition { Name = binding.ProfileDataset, Schema = ProfileSchemaName }).ConfigureAwait(false);
    }
}
