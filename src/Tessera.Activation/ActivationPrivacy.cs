using System.Text.Json.Nodes;
using Tessera.Activation.Delivery;
using Tessera.Identity.Graph;
using Tessera.Profiles.Privacy;

namespace Tessera.Activation;

/// <summary>
/// Privacy requests reach activation's own records (docs/privacy.md): the dead-lettered changes that
/// name the person and what was sent for them. Destinations themselves hear of a delete through the
/// person's exits in the membership feed, which the feed holds until every destination has read them.
/// The audit log holds counts and payload hashes only, nobody's identities.
/// </summary>
public sealed class ActivationPrivacy(ActivationLog log) : IPrivacyParticipant
{
    public string Name => "activation";

    public PrivacyParticipantAccess Access(string sandbox, IReadOnlyList<IdentityKey> person)
    {
        var records = log.DeadRecordsOf(sandbox, Names(person));
        var section = new JsonObject
        {
            ["deadLetters"] = new JsonArray([.. records.Select(r => (JsonNode)new JsonObject
            {
                ["destination"] = r.Destination,
                ["audienceId"] = r.Record.AudienceId,
                ["profileId"] = r.Record.ProfileId,
                ["operation"] = r.Record.Operation,
            })]),
        };
        return new PrivacyParticipantAccess(section, new Dictionary<string, long> { ["deadLetterRecords"] = records.Count });
    }

    public async Task<IReadOnlyDictionary<string, long>> DeleteAsync(string sandbox, IReadOnlyList<IdentityKey> person, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var (dead, sent) = await log.ForgetProfilesAsync(sandbox, Names(person), cancellationToken).ConfigureAwait(false);
        return new Dictionary<string, long> { ["deadLetterRecords"] = dead, ["sentRecords"] = sent };
    }

    private static HashSet<string> Names(IReadOnlyList<IdentityKey> person) => [.. person.Select(i => i.ToString())];
}
