namespace Tessera.Activation.Connectors;

/// <summary>
/// What a connector knows of the destination it builds requests for: its name, the idempotency key
/// of the micro-batch (the same on every retry and replay, so a receiver can de-duplicate), its
/// connection settings and, per activated audience, the audience's id on the platform.
/// </summary>
public sealed record ConnectorContext(
    string Destination,
    string IdempotencyKey,
    IReadOnlyDictionary<string, string> Settings,
    IReadOnlyDictionary<string, string> ExternalAudienceIds)
{
    /// <summary>The platform's id of a Tessera audience: its mapping if the destination has one, else the Tessera id.</summary>
    public string ExternalAudienceId(string audienceId) =>
        ExternalAudienceIds.TryGetValue(audienceId, out var external) ? external : audienceId;

    public string? Setting(string name) => Settings.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// A connector that delivers over HTTP: it turns one micro-batch of records (already filtered for
/// consent and policy, in feed order) into the platform's documented requests. Building is pure: the
/// same batch gives the same bytes, so a retried or replayed batch is the same request.
/// </summary>
public interface IHttpConnector
{
    /// <summary>The connector type a destination names (<c>webhook</c>, <c>meta</c>, <c>google</c>, ...).</summary>
    string Type { get; }

    /// <summary>The match keys the platform accepts (the targets an identity mapping may name).</summary>
    IReadOnlyList<string> Keys { get; }

    IReadOnlyList<OutgoingRequest> Build(ConnectorContext context, IReadOnlyList<DeliveryRecord> records);
}
