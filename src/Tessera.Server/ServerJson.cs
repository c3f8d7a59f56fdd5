using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tessera.Server;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(WorkspaceConfig))]
public sealed partial class ServerJson : JsonSerializerContext;
