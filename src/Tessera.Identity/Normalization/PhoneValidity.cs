using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using PhoneNumbers;

namespace Tessera.Identity.Normalization;

/// <summary>
/// The answer of libphonenumber's <see cref="PhoneNumberUtil.IsValidNumber"/>, from the same metadata
/// and the same rules, with fewer and compiled regular expressions. The library matches each pattern
/// on its own with the regex interpreter (it builds thousands of them, and most processes use a few
/// once): a number of +1 that is not a valid US number tried 11 US patterns and then the leading
/// digits of 24 other regions, one by one. Here a region's types are one compiled expression, and a
/// run of regions told apart by leading digits is one expression too. A property test holds this to
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
    private static readonly ConcurrentDictionary<int, CallingCode?> CallingCodes = new();

    public static bool IsValid(PhoneNumber number)
    {
        if (CallingCodes.GetOrAdd(number.CountryCode, Describe) is not { } code)
        {
            return false;
        }
        var national = Phones.GetNationalSignificantNumber(number);
        return code.RegionOf(national)?.IsValid(national) == true;
    }

    private static CallingCode? Describe(int callingCode)
    {
        var regionCodes = Phones.GetRegionCodesForCountryCode(callingCode);
        if (regionCodes.Count == 0)
        {
            return null;
        }
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
        return new CallingCode(regions);
    }

    /// <summary>The regions of one calling code, in the library's order, and how a number picks one.</summary>
    private sealed class CallingCode
    {
        private readonly Region[] _regions;
        private readonly Lazy<Step[]> _steps;

        public CallingCode(List<PhoneMetadata> regions)
        {
            _regions = [.. regions.Select(metadata => new Region(metadata))];
            _steps = new(() => Steps(regions));
        }

        public Region? RegionOf(string national)
        {
            if (_regions.Length == 1)
            {
                return _regions[0];
            }
            foreach (var step in _steps.Value)
            {
                if (step.LeadingDigits is not { } leading)
                {
                    if (_regions[step.First].HasType(national))
                    {
                        return _regions[step.First];
                    }
                    continue;
                }
                var match = leading.Match(national);
                if (match.Success)
                {
                    // The first alternative that matches is the first region in order whose leading digits match.
                    for (var i = 0; i < step.Count; i++)
                    {
                        if (match.Groups[i + 1].Success)
                        {
                            return _regions[step.First + i];
                        }
                    }
                }
            }
            return null; // no region of the calling code claims the number
        }

        /// <summary>Consecutive regions with leading digits become one alternation; every other region is a step of its own.</summary>
        private static Step[] Steps(List<PhoneMetadata> regions)
        {
            var steps = new List<Step>();
            for (var i = 0; i < regions.Count;)
            {
                if (!regions[i].HasLeadingDigits)
                {
                    steps.Add(new Step(i, 1, null));
                    i++;
                    continue;
                }
                var first = i;
                var pattern = new StringBuilder("^(?:");
                for (; i < regions.Count && regions[i].HasLeadingDigits; i++)
                {
                    pattern.Append(i == first ? "" : "|").Append($"(?<r{i - first}>{regions[i].LeadingDigits})");
                }
                steps.Add(new Step(first, i - first, Compile(pattern.Append(')').ToString())));
            }
            return [.. steps];
        }

        /// <summary>Regions <c>First</c> to <c>First + Count - 1</c>: told apart by <c>LeadingDigits</c>, or by their types when null.</summary>
        private sealed record Step(int First, int Count, Regex? LeadingDigits);
    }

    /// <summary>One region's validity: its general pattern, then any type's, each behind its possible lengths.</summary>
    private sealed class Region(PhoneMetadata metadata)
    {
        private readonly Lazy<Regex?> _typed = new(() => metadata.GeneralDesc.HasNationalNumberPattern ? Compile(TypedPattern(metadata)) : null);

        /// <summary>Whether the number is valid here: it has a type, or, where the region has no patterns, a plausible length.</summary>
        public bool IsValid(string national) =>
            metadata.GeneralDesc.HasNationalNumberPattern ? HasType(national) : national.Length is > 2 and <= 17;

        /// <summary>Whether the national number is of some type in this region (the library's type is not UNKNOWN).</summary>
        public bool HasType(string national) => _typed.Value?.IsMatch(national) == true;

        private static string TypedPattern(PhoneMetadata metadata)
        {
            // Every type the library tries; which one matches does not matter here, only that one does.
            PhoneNumberDesc?[] types = [metadata.PremiumRate, metadata.TollFree, metadata.SharedCost, metadata.Voip,
                metadata.PersonalNumber, metadata.Pager, metadata.Uan, metadata.Voicemail, metadata.FixedLine, metadata.Mobile];
            var alternatives = types.OfType<PhoneNumberDesc>().Select(Alternative).OfType<string>().ToList();
            return alternatives.Count == 0 || Alternative(metadata.GeneralDesc) is not { } general
                ? "(?!)" // matches nothing
                : $"^(?={general}$)(?:{string.Join('|', alternatives)})$";
        }

        /// <summary>The description as one alternative (its lengths as a lookahead), or null when it can match no number.</summary>
        private static string? Alternative(PhoneNumberDesc description)
        {
            if (string.IsNullOrEmpty(description.NationalNumberPattern))
            {
                return null; // the library's whole-string match of an empty pattern fails on any number
            }
            if (description.PossibleLengthCount == 0)
            {
                return $"(?:{description.NationalNumberPattern})";
            }
            var lengths = description.PossibleLengthList.Where(length => length > 0).ToList();
            return lengths.Count == 0
                ? null // -1 marks a type the region does not have
                : $"(?=\\d{{{string.Join("}$|\\d{", lengths)}}}$)(?:{description.NationalNumberPattern})";
        }
    }

    private static Regex Compile(string pattern) => new(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);
}
