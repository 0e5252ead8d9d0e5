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
public sealed partial class ZkCodeStore(Database db, IOptions<PythOnOptions> options)
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

        var id = RowId(userId, request.Name);
        var existing = db.ZkCode.FindById(id);
        if (existing is null && db.ZkCode.Count(z => z.UserId == userId) >= MaxProgramsPerUser)
            throw Problems.TooMany($"you have {MaxProgramsPerUser} stored programs, the limit: delete one first.");
        var now = Clock.NowMs();
        var record = existing ?? new ZkCodeRecord { Id = id, UserId = userId, Name = request.Name, CreatedAt = now };
        record.Language = language;
        record.Description = request.Description;
        record.Salt = parts.Salt;
        record.Nonce = parts.Nonce;
        record.Ciphertext = parts.Ciphertext;
        record.UpdatedAt = now;
        db.ZkCode.Upsert(record);
        return record;
    }

    public ZkCodeRecord? Find(ObjectId userId, string name)
    {
        ValidateName(name);
        return db.ZkCode.FindById(RowId(userId, name));
    }

    public bool Delete(ObjectId userId, string name)
    {
        ValidateName(name);
        return db.ZkCode.Delete(RowId(userId, name));
    }

    public IReadOnlyList<ZkCodeRecord> List(ObjectId userId) =>
        db.ZkCode.Find(z => z.UserId == userId).OrderBy(z => z.Name, StringComparer.Ordinal).ToList();

    private static string RowId(ObjectId userId, string name) => $"{userId}/{name}";

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NameShape();
}
