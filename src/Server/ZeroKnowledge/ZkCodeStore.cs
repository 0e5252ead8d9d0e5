using System.Text.RegularExpressions;
using LiteDB;
using Microsoft.Extensions.Options;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using PythOn.Server.Errors;
using PythOn.Server.Execution;
using PythOn.Server.Hosting;
using PythOn.Server.Storage;

namespace PythOn.Server.ZeroKnowledge;

/// <summary>Stored zero-knowledge programs: checked for shape, kept as opaque bytes.</summary>
public sealed partial class ZkCodeStore(IZkCodeRepository programs, IOptions<PythOnOptions> options)
{
    public const int MaxDescriptionLength = 1024;
    public const int MaxProgramsPerUser = 100;

    private int MaxCiphertextBytes => options.Value.Limits.MaxCodeBytes + ZkPayloadV1.TagBytes;

    public static void ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name) || !NameShape().IsMatch(name))
            throw Problems.Invalid($"name '{name}' is invalid: use 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'.");
    }

    public ZkCodeRecord Store(ObjectId userId, StoreCodeRequest request)
    {
        ValidateName(request.Name);
        var language = KnownLanguages.Require(request.Language);
        if (request.Description.Length > MaxDescriptionLength)
            throw Problems.Invalid($"description is {request.Description.Length} characters; the limit is {MaxDescriptionLength}.");
        ZkPayloadParts parts;
        try
        {
            parts = ZkPayloadV1.Parse(request.EncryptedPayload, MaxCiphertextBytes);
        }
        catch (ZkFormatException e)
        {
            throw Problems.Invalid(e.Message);
        }

        var now = Clock.NowMs();
        var record = new ZkCodeRecord
        {
            UserId = userId,
            Name = request.Name,
            Language = language,
            Description = request.Description,
            Salt = parts.Salt,
            Nonce = parts.Nonce,
            Ciphertext = parts.Ciphertext,
            CreatedAt = now,
            UpdatedAt = now,
        };
        // The repository counts and writes in one step (a replacement keeps its CreatedAt).
        return programs.Put(record, MaxProgramsPerUser)
            ?? throw Problems.TooMany($"you have {MaxProgramsPerUser} stored programs, the limit: delete one first.");
    }

    public ZkCodeRecord? Find(ObjectId userId, string name)
    {
        ValidateName(name);
        return programs.Find(userId, name);
    }

    public bool Delete(ObjectId userId, string name)
    {
        ValidateName(name);
        return programs.Delete(userId, name);
    }

    public IReadOnlyList<ZkCodeRecord> List(ObjectId userId) => programs.List(userId);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NameShape();
}
