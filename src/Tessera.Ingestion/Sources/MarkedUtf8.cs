using System.Text;

namespace Tessera.Ingestion.Sources;

/// <summary>
/// UTF-8 decoding that marks bytes that are not UTF-8 instead of hiding them. The standard decoder turns each invalid
/// sequence into U+FFFD, which is also a character a valid file may hold; this one turns it into <see cref="Marker"/>, a
/// noncharacter (reserved by Unicode for a program's internal use), and counts it. A reader looks for the marker in a
/// record's text only once the count is above zero, so valid files pay nothing per record: the check rides on the decoder's
/// own validation, which runs on every buffer anyway. (A lone surrogate would be an unmistakable marker, but a decoder's
/// fallback may not produce one.)
/// </summary>
internal sealed class MarkedUtf8 : DecoderFallback
{
    /// <summary>What each invalid byte sequence becomes (U+FDD0).</summary>
    public const char Marker = '\uFDD0';

    public MarkedUtf8()
    {
        // The preamble lets a StreamReader skip a UTF-8 byte order mark and keep this decoder (with the standard
        // UTF-8 encoding it would swap to on finding one); a UTF-16 or UTF-32 mark still switches it to that encoding.
        var encoding = (Encoding)new UTF8Encoding(encoderShouldEmitUTF8Identifier: true).Clone();
        encoding.DecoderFallback = this;
        Encoding = encoding;
    }

    public Encoding Encoding { get; }

    /// <summary>How many invalid sequences were decoded so far.</summary>
    public long Invalid { get; private set; }

    public override int MaxCharCount => 1;

    public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer(this);

    /// <summary>Whether <paramref name="text"/> holds a marked invalid sequence (false at no cost while none was seen).</summary>
    public bool Marked(ReadOnlySpan<char> text) => Invalid > 0 && text.Contains(Marker);

    /// <summary><paramref name="text"/> as it is shown and kept in the quarantine: each invalid sequence as U+FFFD.</summary>
    public static string Visible(string text) => text.Replace(Marker, '\uFFFD');

    /// <summary>Where the first invalid sequence is in <paramref name="text"/>, said for a message.</summary>
    public static string Where(string text) => $"at character {text.IndexOf(Marker) + 1}";

    private sealed class Buffer(MarkedUtf8 owner) : DecoderFallbackBuffer
    {
        private int _left;

        public override int Remaining => _left;

        public override bool Fallback(byte[] bytesUnknown, int index)
        {
            owner.Invalid++;
            _left = 1;
            return true;
        }

        public override char GetNextChar()
        {
            if (_left == 0)
            {
                return '\0';
            }
            _left--;
            return Marker;
        }

        public override bool MovePrevious()
        {
            if (_left > 0)
            {
                return false;
            }
            _left = 1;
            return true;
        }

        public override void Reset() => _left = 0;
    }
}
