using System.Globalization;
using System.Text.Json.Nodes;
using Tessera.Identity.Graph;
using Tessera.Profiles.Privacy;
using Tessera.Segmentation.Engines;

namespace Tessera.Segmentation.Memberships;

/// <summary>
/// Privacy requests reach audience memberships and the membership feed (docs/privacy.md). Delete exits
/// and removes the person's memberships (the <c>exited</c> changes are how deletion reaches
/// destinations), then scrubs the feed changes that name them; access exports both.
/// </summary>
public sealed class MembershipPrivacy : IPrivacyParticipant
{
    private const int Page = 10_000;
    private readonly MembershipStore _memberships;
    private readonly Func<StreamingEngine?> _streaming;

    /// <param name="streaming">The streaming engine when one runs (it is started after the workspace opens).</param>
    public MembershipPrivacy(MembershipStore memberships, Func<StreamingEngine?> streaming)
    {
        _memberships = memberships;
        _streaming = streaming;
    }

    public string Name => PrivacyCounts.Memberships;

    public PrivacyParticipantAccess Access(string sandbox, IReadOnlyList<IdentityKey> person)
    {
        var names = Names(person);
        var memberships = Memberships(sandbox, names);
        var feed = Feed(sandbox).Where(c => Mentions(c, names)).ToList();
        var section = new JsonObject
        {
            ["memberships"] = new JsonArray([.. memberships.Select(m => (JsonNode)new JsonObject
            {
                ["audienceId"] = m.AudienceId,
                ["profileId"] = m.ProfileId,
                ["status"] = Text(m.Status),
                ["lastQualifiedAt"] = m.LastQualifiedAt,
                ["changedAt"] = m.ChangedAt,
                ["identities"] = new JsonArray([.. m.Identities.Select(i => (JsonNode)JsonValue.Create(i))]),
            })]),
            ["feed"] = new JsonArray([.. feed.Select(c => (JsonNode)new JsonObject
            {
                ["sequence"] = c.Sequence,
                ["audienceId"] = c.AudienceId,
                ["profileId"] = c.ProfileId,
                ["status"] = Text(c.Status),
                ["at"] = c.At,
                ["identities"] = new JsonArray([.. c.Identities.Select(i => (JsonNode)JsonValue.Create(i))]),
            })]),
        };
        return new PrivacyParticipantAccess(section, new Dictionary<string, long>
        {
            [PrivacyCounts.Memberships] = memberships.Count,
            [PrivacyCounts.FeedEntries] = feed.Count,
        });
    }

    public async Task<IReadOnlyDictionary<string, long>> DeleteAsync(string sandbox, IReadOnlyList<IdentityKey> person, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var names = Names(person);
        var streaming = _streaming();
        if (streaming is not null)
        {
            // First, so that no evaluation read before the delete writes the person back after it.
            await streaming.ForgetAsync(sandbox, names, cancellationToken).ConfigureAwait(false);
        }

        var memberships = Memberships(sandbox, names);
        long exited = 0;
        foreach (var profileId in memberships.Select(m => m.ProfileId).Distinct(StringComparer.Ordinal))
        {
            exited += await _memberships.RemoveProfileAsync(sandbox, profileId, at, cancellationToken).ConfigureAwait(false);
        }
        // Someone else's profile that carried one of the person's identities lost its memberships with
        // them: it is evaluated again, now without the person (their links are gone).
        var others = memberships.SelectMany(m => m.Identities).Where(i => !names.Contains(i)).Distinct(StringComparer.Ordinal)
            .Select(i => IdentityKey.TryParse(i, out var key) ? key : (IdentityKey?)null).OfType<IdentityKey>().ToList();
        if (streaming is not null && others.Count > 0)
        {
            streaming.Reevaluate(sandbox, others);
        }

        // An exit a registered consumer has not read yet keeps the identities it must remove downstream;
        // a later run of the delete (or the purge) takes it once every consumer is past it.
        var cursors = _memberships.Cursors(sandbox);
        var readByAll = cursors.Count == 0 ? long.MaxValue : cursors.Min(c => c.Sequence);
        long held = 0;
        var scrubbed = await _memberships.ScrubFeedAsync(sandbox, change =>
        {
            if (!Mentions(change, names))
            {
                return false;
            }
            if (change.Status == MembershipStatus.Exited && change.Sequence > readByAll)
            {
                held++;
                return false;
            }
            return true;
        }, cancellationToken).ConfigureAwait(false);

        return new Dictionary<string, long>
        {
            [PrivacyCounts.Memberships] = memberships.Count,
            [PrivacyCounts.MembershipsExited] = exited,
            [PrivacyCounts.FeedEntries] = scrubbed,
            [PrivacyCounts.FeedEntriesHeld] = held,
        };
    }

    private static HashSet<string> Names(IReadOnlyList<IdentityKey> person) =>
        person.Select(p => p.ToString()).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The person's memberships: those of a profile whose id is one of their identities, and any whose
    /// stored identities include one (a profile under another primary identity that held them).
    /// </summary>
    private List<Membership> Memberships(string sandbox, HashSet<string> names)
    {
        var result = new List<Membership>();
        var seen = new HashSet<(string, string)>();
        foreach (var name in names)
        {
            foreach (var membership in _memberships.Of(sandbox, name))
            {
                if (seen.Add((membership.AudienceId, membership.ProfileId)))
                {
                    result.Add(membership);
                }
            }
        }
        // A scan of the sandbox's memberships: the stored identities are not indexed.
        foreach (var membership in _memberships.All(sandbox))
        {
            if (membership.Identities.Any(names.Contains) && seen.Add((membership.AudienceId, membership.ProfileId)))
            {
                result.Add(membership);
            }
        }
        return result;
    }

    private IEnumerable<MembershipChange> Feed(string sandbox)
    {
        var after = 0L;
        while (true)
        {
            var page = _memberships.Read(sandbox, after, Page);
            foreach (var change in page)
            {
                yield return change;
            }
            if (page.Count < Page)
            {
                yield break;
            }
            after = page[^1].Sequence;
        }
    }

    private static bool Mentions(MembershipChange change, HashSet<string> names) =>
        names.Contains(change.ProfileId) || change.Identities.Any(names.Contains);

    private static string Text(MembershipStatus status) => status.ToString().ToLower(CultureInfo.InvariantCulture);
}
