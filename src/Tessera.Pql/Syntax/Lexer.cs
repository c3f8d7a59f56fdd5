using System.Globalization;
using System.Text;

namespace Tessera.Pql.Syntax;

public enum TokenKind
{
    End,
    Identifier,
    String,
    Integer,
    Double,
    Parameter,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Comma,
    Dot,
    Caret,
    Arrow,
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    Colon,
}

/// <summary>A token: its kind, its text (a string's unescaped value) and where it starts.</summary>
public readonly record struct Token(TokenKind Kind, string Text, SourcePosition Position);

/// <summary>A syntax or type error in a PQL expression, with where it is.</summary>
public sealed class PqlException(string message, SourcePosition position) : Exception($"{position}: {message}")
{
    public SourcePosition Position { get; } = position;

    public string Reason { get; } = message;
}

/// <summary>Splits PQL text into tokens. Keywords (<c>and</c>, <c>exists</c>, ...) are identifiers here; the parser tells them apart.</summary>
public static class Lexer
{
    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        var line = 1;
        var lineStart = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                if (text[i] == '\n')
                {
                    line++;
                    lineStart = i + 1;
                }
                i++;
            }
            var at = new SourcePosition(i, line, i - lineStart + 1);
            if (i >= text.Length)
            {
                tokens.Add(new Token(TokenKind.End, "", at));
                return tokens;
            }
            var c = text[i];
            if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }
                tokens.Add(new Token(TokenKind.Identifier, text[start..i], at));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                tokens.Add(Number(text, ref i, at));
                continue;
            }
            if (c is '"' or '\'')
            {
                tokens.Add(new Token(TokenKind.String, StringLiteral(text, ref i, at), at));
                continue;
            }
            if (c == '$')
            {
                var start = ++i;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    i++;
                }
                if (i == start || !int.TryParse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index < 1)
                {
                    throw new PqlException("'$' must be followed by a parameter number ($1, $2, ...)", at);
                }
                tokens.Add(new Token(TokenKind.Parameter, text[start..i], at));
                continue;
            }
            var (kind, length) = c switch
            {
                '(' => (TokenKind.LeftParen, 1),
                ')' => (TokenKind.RightParen, 1),
                '[' => (TokenKind.LeftBracket, 1),
                ']' => (TokenKind.RightBracket, 1),
                ',' => (TokenKind.Comma, 1),
                '.' => (TokenKind.Dot, 1),
                '^' => (TokenKind.Caret, 1),
                ':' => (TokenKind.Colon, 1),
                '+' => (TokenKind.Plus, 1),
                '-' => (TokenKind.Minus, 1),
                '*' => (TokenKind.Star, 1),
                '/' => (TokenKind.Slash, 1),
                '%' => (TokenKind.Percent, 1),
                '=' when Next(text, i) == '>' => (TokenKind.Arrow, 2),
                '=' when Next(text, i) == '=' => (TokenKind.Equal, 2),
                '=' => (TokenKind.Equal, 1),
                '!' when Next(text, i) == '=' => (TokenKind.NotEqual, 2),
                '!' => (TokenKind.Bang, 1),
                '<' when Next(text, i) == '=' => (TokenKind.LessEqual, 2),
                '<' when Next(text, i) == '>' => (TokenKind.NotEqual, 2),
                '<' => (TokenKind.Less, 1),
                '>' when Next(text, i) == '=' => (TokenKind.GreaterEqual, 2),
                '>' => (TokenKind.Greater, 1),
                _ => throw new PqlException($"unexpected character '{c}'", at),
            };
            tokens.Add(new Token(kind, text.Substring(i, length), at));
            i += length;
        }
    }

    private static char Next(string text, int i) => i + 1 < text.Length ? text[i + 1] : '\0';

    private static Token Number(string text, ref int i, SourcePosition at)
    {
        var start = i;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }
        var isDouble = false;
        if (i + 1 < text.Length && text[i] == '.' && char.IsAsciiDigit(text[i + 1]))
        {
            isDouble = true;
            i++;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }
        }
        if (i < text.Length && text[i] is 'e' or 'E')
        {
            var exponent = i + 1;
            if (exponent < text.Length && text[exponent] is '+' or '-')
            {
                exponent++;
            }
            if (exponent < text.Length && char.IsAsciiDigit(text[exponent]))
            {
                isDouble = true;
                i = exponent;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    i++;
                }
            }
        }
        var number = text[start..i];
        if (isDouble)
        {
            return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
                ? new Token(TokenKind.Double, number, at)
                : throw new PqlException($"number '{number}' is out of range", at);
        }
        return long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? new Token(TokenKind.Integer, number, at)
            : double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                ? new Token(TokenKind.Double, number, at) // Too large for a 64-bit integer: a double, as JSON numbers are.
                : throw new PqlException($"number '{number}' is out of range", at);
    }

    private static string StringLiteral(string text, ref int i, SourcePosition at)
    {
        var quote = text[i++];
        var value = new StringBuilder();
        while (true)
        {
            if (i >= text.Length)
            {
                throw new PqlException("string is not closed", at);
            }
            var c = text[i++];
            if (c == quote)
            {
                return value.ToString();
            }
            if (c != '\\')
            {
                value.Append(c);
                continue;
            }
            if (i >= text.Length)
            {
                throw new PqlException("string is not closed", at);
            }
            var escaped = text[i++];
            switch (escaped)
            {
                case 'n': value.Append('\n'); break;
                case 't': value.Append('\t'); break;
                case 'r': value.Append('\r'); break;
                case 'u' when i + 4 <= text.Length && int.TryParse(text.AsSpan(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code):
                    value.Append((char)code);
                    i += 4;
                    break;
                case '\\' or '"' or '\'' or '/':
                    value.Append(escaped);
                    break;
                default:
                    throw new PqlException($"unknown escape '\\{escaped}' in a string", new SourcePosition(at.Offset, at.Line, at.Column));
            }
        }
    }
}
