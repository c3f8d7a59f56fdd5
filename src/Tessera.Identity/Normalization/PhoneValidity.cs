using System.Numerics;
using PhoneNumbers;

namespace Tessera.Identity.Normalization;

/// <summary>
/// The answer of libphonenumber's <see cref="PhoneNumberUtil.IsValidNumber"/>, from the same metadata
/// and the same rules, without regular expressions. The library matches each pattern on its own with
/// the regex interpreter (it builds thousands of them, and most processes use a few once): a number of
/// +1 that is not a valid US number tried 11 US patterns and then the leading digits of 24 other
/// regions, one by one. Here a region's patterns are one <see cref="DigitAutomaton"/>, read in one pass
/// over the digits, and so are the leading digits of a run of regions. A property test holds this to
/// the library's answer across every calling code.
/// </summary>
/// <remarks>
/// The rules, as the library applies them: the number's calling code names one region or several
/// (NANPA's +1 names 25); with several, the first whose leading digits match the national number, or,
/// for a region without leading digits, the first where the number has a type, is the region. The
/// number is valid when it matches that region's general pattern and the pattern of at least one
/// type (fixed line, mobile, toll free...); a pattern counts only for its listed possible lengths.
/// A region without patterns has no types, but once chosen accepts national numbers of 3 to 17 digits.
/// </remarks>
internal static class PhoneValidity
{
    private const string NonGeographicalRegion = "001";
    private static readonly PhoneNumberUtil Phones = PhoneNumberUtil.GetInstance();

    /// <summary>
    /// Every calling code the library knows (its parser looks them up by their one to three digits), each
    /// described on first use: null for a code it does not know, a null description where it has no metadata.
    /// </summary>
    private static readonly Lazy<CallingCode?>?[] CallingCodes = CallingCodeTable();

    /// <summary>A calling code whose metadata uses a pattern the automaton does not read: the library itself answers.</summary>
    private static readonly CallingCode LibraryDecides = new([]);

    public static bool IsValid(PhoneNumber number) =>
        Described(number.CountryCode) switch
        {
            null => false,
            var code when ReferenceEquals(code, LibraryDecides) => Phones.IsValidNumber(number),
            var code => code.IsValid(Phones.GetNationalSignificantNumber(number)),
        };

    /// <summary>
    /// Reads <c>+</c> and digits as libphonenumber's parser would, where that is certain without it: the
    /// calling code is the first of the number's first one, two or three digits the library knows, and
    /// the rest is the national number as it stands, so the E.164 form is the text itself. Returns false
    /// (the parser must read it) for anything else: another character, a calling code the library does
    /// not know, a national number it refuses for its length, one that starts like the region's national
    /// prefix (which the parser may strip), or a calling code answered by the library.
    /// </summary>
    /// <param name="valid">Whether the number is valid (<see cref="IsValid"/> of what the parser would read).</param>
    public static bool TryReadInternational(string text, out int callingCode, out bool valid)
    {
        callingCode = 0;
        valid = false;
        // The parser wants more than two digits after '+', and a national number of 2 to 17 digits.
        if (text.Length is < 4 or > 21 || text[0] != '+' || text[1] == '0' || text.AsSpan(1).ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }
        var digits = text.AsSpan(1);
        var length = 1;
        for (var code = digits[0] - '0'; ; code = (code * 10) + (digits[length++] - '0'))
        {
            if (CallingCodes[code] is not null)
            {
                callingCode = code;
                break;
            }
            if (length == 3)
            {
                return false;
            }
        }
        var national = digits[length..];
        if (national.Length is < 2 or > 17
            || Described(callingCode) is not { } described
            || ReferenceEquals(described, LibraryDecides)
            || described.MayStripNationalPrefix(national))
        {
            return false;
        }
        valid = described.IsValid(national);
        return true;
    }

    private static Lazy<CallingCode?>?[] CallingCodeTable()
    {
        var table = new Lazy<CallingCode?>?[1000];
        foreach (var code in Phones.GetSupportedCallingCodes())
        {
            table[code] = new(() => Describe(code));
        }
        return table;
    }

    /// <summary>The calling code's description, or null when the library does not know it or has no metadata for it.</summary>
    private static CallingCode? Described(int callingCode) => (uint)callingCode < CallingCodes.Length ? CallingCodes[callingCode]?.Value : null;

    /// <summary>Which of <paramref name="regions"/> (in the library's order) a national number belongs to, or -1 (for tests of the rule on made-up metadata).</summary>
    internal static int RegionOf(List<PhoneMetadata> regions, string national) => new CallingCode(regions).RegionOf(national);

    /// <summary>Whether a national number is valid in one region (for tests of the rule on made-up metadata).</summary>
    internal static bool IsValidIn(PhoneMetadata region, string national) => new Region(region).IsValid(national);

    /// <summary>Whether the calling code is answered here rather than by the library (for tests: every one should be).</summary>
    internal static bool IsCompiled(int callingCode) => Described(callingCode) is { } code && !ReferenceEquals(code, LibraryDecides);

    private static CallingCode? Describe(int callingCode)
    {
        var regionCodes = Phones.GetRegionCodesForCountryCode(callingCode);
        var regions = new List<PhoneMetadata>(regionCodes.Count);
        foreach (var regionCode in regionCodes)
        {
            var metadata = regionCode == NonGeographicalRegion
                ? Phones.GetMetadataForNonGeographicalRegion(callingCode)
                : Phones.GetMetadataForRegion(regionCode);
            if (metadata is null)
            {
                return null; // the library finds no metadata either, and calls every such number invalid
            }
            regions.Add(metadata);
        }
        try
        {
            return new CallingCode(regions);
        }
        catch (NotSupportedException)
        {
            return LibraryDecides;
        }
    }

    /// <summary>The regions of one calling code, in the library's order, and how a number picks one (all built up front).</summary>
    private sealed class CallingCode
    {
        /// <summary>Regions told apart by leading digits in one automaton: at most its 64 tags.</summary>
        private const int MaxRegionsPerStep = 64;

        private readonly Region[] _regions;
        private readonly Step[] _steps;

        /// <summary>The main region's national prefix for parsing (the parser tries to strip it even after a calling code), or null when it has none.</summary>
        private readonly DigitAutomaton? _nationalPrefix;

        /// <summary>The national prefix is a pattern the automaton does not read (JP, MG, SM and NF anchor theirs at the end): the parser reads every number.</summary>
        private readonly bool _nationalPrefixUnread;

        public CallingCode(List<PhoneMetadata> regions)
        {
            _regions = [.. regions.Select(metadata => new Region(metadata))];
            _steps = _regions.Length == 1 ? [] : Steps(regions);
            if (regions.Count > 0 && regions[0].NationalPrefixForParsing is { Length: > 0 } nationalPrefix)
            {
                try
                {
                    _nationalPrefix = DigitAutomaton.Compile([nationalPrefix]);
                }
                catch (NotSupportedException)
                {
                    _nationalPrefixUnread = true;
                }
            }
        }

        public bool IsValid(ReadOnlySpan<char> national) => RegionOf(national) is var region and >= 0 && _regions[region].IsValid(national);

        /// <summary>Whether the national number starts with a match of the national prefix (the empty match included), so the parser would try to strip it.</summary>
        public bool MayStripNationalPrefix(ReadOnlySpan<char> national) =>
            _nationalPrefixUnread || _nationalPrefix?.MatchPrefixes(national) is not (null or 0);

        /// <summary>The index of the number's region, or -1 when none claims it.</summary>
        public int RegionOf(ReadOnlySpan<char> national)
        {
            if (_regions.Length == 1)
            {
                return 0;
            }
            foreach (var step in _steps)
            {
                if (step.LeadingDigits is not { } leading)
                {
                    if (_regions[step.First].HasType(national))
                    {
                        return step.First;
                    }
                    continue;
                }
                // Tag i: region First + i; the lowest whose leading digits match is the first in order.
                var matched = leading.MatchPrefixes(national);
                if (matched != 0)
                {
                    return step.First + BitOperations.TrailingZeroCount(matched);
                }
            }
            return -1; // no region of the calling code claims the number
        }

        /// <summary>Consecutive regions with leading digits become one automaton; every other region is a step of its own.</summary>
        private static Step[] Steps(List<PhoneMetadata> regions)
        {
            var steps = new List<Step>();
            for (var i = 0; i < regions.Count;)
            {
                if (!regions[i].HasLeadingDigits)
                {
                    steps.Add(new Step(i, null));
                    i++;
                    continue;
                }
                var first = i;
                var leadingDigits = new List<string>();
                for (; i < regions.Count && regions[i].HasLeadingDigits && leadingDigits.Count < MaxRegionsPerStep; i++)
                {
                    leadingDigits.Add(regions[i].LeadingDigits);
                }
                steps.Add(new Step(first, DigitAutomaton.Compile(leadingDigits)));
            }
            return [.. steps];
        }

        /// <summary>Regions from <c>First</c>: told apart by <c>LeadingDigits</c> (a tag each), or, when null, region <c>First</c> alone by its types.</summary>
        private sealed record Step(int First, DigitAutomaton? LeadingDigits);
    }

    /// <summary>One region's validity: its general pattern, then any type's, each behind its possible lengths.</summary>
    private sealed class Region(PhoneMetadata metadata)
    {
        private readonly Types? _types = metadata.GeneralDesc.HasNationalNumberPattern ? Types.Of(metadata) : null;

        /// <summary>Whether the number is valid here: it has a type, or, where the region has no patterns, a plausible length.</summary>
        public bool IsValid(ReadOnlySpan<char> national) =>
            metadata.GeneralDesc.HasNationalNumberPattern ? HasType(national) : national.Length is > 2 and <= 17;

        /// <summary>Whether the national number is of some type in this region (the library's type is not UNKNOWN).</summary>
        public bool HasType(ReadOnlySpan<char> national) => _types?.Match(national) == true;
    }

    /// <summary>A region's general pattern (tag 0) and its types' (tags from 1) in one automaton, each counting only at its possible lengths.</summary>
    private sealed class Types(DigitAutomaton automaton, ulong[] countingAt)
    {
        private const ulong General = 1;

        /// <summary>The general pattern and at least one type match, each at a length it lists.</summary>
        public bool Match(ReadOnlySpan<char> national)
        {
            // The library parses no national number longer than 17 digits; the table covers every listed length.
            if (national.Length >= countingAt.Length)
            {
                return false;
            }
            var matched = automaton.MatchWhole(national) & countingAt[national.Length];
            return (matched & General) != 0 && (matched & ~General) != 0;
        }

        /// <summary>The region's patterns, or null when it can match no number (no usable general pattern, or no type).</summary>
        public static Types? Of(PhoneMetadata metadata)
        {
            // Every type the library tries; which one matches does not matter here, only that one does.
            PhoneNumberDesc?[] descriptions = [metadata.GeneralDesc, metadata.PremiumRate, metadata.TollFree, metadata.SharedCost, metadata.Voip,
                metadata.PersonalNumber, metadata.Pager, metadata.Uan, metadata.Voicemail, metadata.FixedLine, metadata.Mobile];
            var patterns = new List<string>();
            var lengths = new List<int[]?>();
            foreach (var description in descriptions)
            {
                if (!Usable(description, out var listed))
                {
                    if (patterns.Count == 0)
                    {
                        return null; // without a general pattern no number has a type
                    }
                    continue;
                }
                patterns.Add(description!.NationalNumberPattern);
                lengths.Add(listed);
            }
            if (patterns.Count < 2)
            {
                return null;
            }
            var countingAt = new ulong[Math.Max(18, lengths.Max(listed => listed?.Max() ?? 0) + 1)];
            for (var tag = 0; tag < patterns.Count; tag++)
            {
                for (var length = 0; length < countingAt.Length; length++)
                {
                    if (lengths[tag] is not { } listed || listed.Contains(length))
                    {
                        countingAt[length] |= 1UL << tag;
                    }
                }
            }
            return new Types(DigitAutomaton.Compile(patterns), countingAt);
        }

        /// <summary>Whether the description can match a number, and the lengths it counts at (null: every length).</summary>
        private static bool Usable(PhoneNumberDesc? description, out int[]? listed)
        {
            listed = null;
            if (description is null || string.IsNullOrEmpty(description.NationalNumberPattern))
            {
                return false; // the library's whole-string match of an empty pattern fails on any number
            }
            if (description.PossibleLengthCount > 0)
            {
                listed = [.. description.PossibleLengthList.Where(length => length > 0)];
                return listed.Length > 0; // only -1: a type the region does not have
            }
            return true;
        }
    }
}
