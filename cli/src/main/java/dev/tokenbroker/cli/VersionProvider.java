package dev.tokenbroker.cli;

import picocli.CommandLine.IVersionProvider;

/** The version from the jar's manifest, or a note that this is a development build. */
final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = Main.class.getPackage().getImplementationVersion();
    return new String[] {
      "tokenbroker " + (version != null ? version : "(development build)"),
      "Java " + System.getProperty("java.version")
    };
  }
}
