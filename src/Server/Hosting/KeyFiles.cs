using System.Security.Cryptography;

namespace PythOn.Server.Hosting;

/// <summary>Keys that are generated once into the data directory, readable by the owner only.</summary>
public static class KeyFiles
{
    /// <summary>Returns the configured key (base64) or the key stored in <paramref name="fileName"/>, creating it when absent.</summary>
    public static byte[] LoadOrCreate(string dataDirectory, string fileName, string? configuredBase64, int length, string settingName)
    {
        if (!string.IsNullOrWhiteSpace(configuredBase64))
        {
            byte[] configured;
            try { configured = Convert.FromBase64String(configuredBase64.Trim()); }
            catch (FormatException) { throw new PythOn.Hosting.InvalidSettingException($"{settingName} is not valid base64."); }
            if (configured.Length < length)
                throw new PythOn.Hosting.InvalidSettingException($"{settingName} must decode to at least {length} bytes (it has {configured.Length}).");
            return configured;
        }

        DataDirectory.Ensure(dataDirectory);
        var path = Path.Combine(dataDirectory, fileName);
        if (File.Exists(path))
        {
            var stored = Convert.FromBase64String(File.ReadAllText(path).Trim());
            if (stored.Length < length)
                throw new PythOn.Hosting.InvalidSettingException($"{path} holds a key shorter than {length} bytes; delete it to generate a new one.");
            return stored;
        }

        var key = RandomNumberGenerator.GetBytes(length);
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(Convert.ToBase64String(key));
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        // Rename is atomic: two servers starting at once never read a half-written key.
        File.Move(temp, path, overwrite: false);
        return key;
    }
}

public static class DataDirectory
{
    /// <summary>Creates the data directory owner-only (0700) when it does not exist yet.</summary>
    public static void Ensure(string path)
    {
        if (Directory.Exists(path)) return;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
