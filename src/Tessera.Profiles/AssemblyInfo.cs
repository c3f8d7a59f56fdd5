namespace Tessera.Profiles;
