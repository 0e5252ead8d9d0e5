// These tests start real processes with unix sockets and check POSIX file modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
