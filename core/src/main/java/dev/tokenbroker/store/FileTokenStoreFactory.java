package dev.tokenbroker.store;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Settings;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashSet;
import java.util.Set;

/**
 * The {@code file} store type: a {@link FileTokenStore}. Found with {@link
 * java.util.ServiceLoader}; applications configure it in the {@code store:} section rather than
 * calling it.
 *
 * <pre>
 * store:
 *   type: file
 *   path: /var/lib/tokenbroker      # default ~/.tokenbroker/tokens
 *   key-env: TOKENBROKER_KEY        # or key-file: /etc/tokenbroker/key; none = stored in the clear
 *   previous-key-env: [TOKENBROKER_OLD_KEY]   # optional, decrypt-only keys during a rotation
 * </pre>
 */
public final class FileTokenStoreFactory implements TokenStoreFactory {
  private static final Set<String> KNOWN;

  static {
    Set<String> known = new HashSet<>(EncryptionKeys.SETTINGS);
    known.add("type");
    known.add("path");
    KNOWN = Set.copyOf(known);
  }

  /** For {@link java.util.ServiceLoader}. */
  public FileTokenStoreFactory() {}

  @Override
  public String type() {
    return "file";
  }

  @Override
  public TokenStore create(Settings settings, Clock clock) {
    settings.rejectUnknown(KNOWN);
    String pathText =
        settings.optional(
            "path", Path.of(System.getProperty("user.home"), ".tokenbroker", "tokens").toString());
    Path path;
    try {
      path = Path.of(pathText);
    } catch (InvalidPathException e) {
      throw settings.invalid("path", "is not a valid path: " + e.getReason());
    }
    EncryptionKeys keys = EncryptionKeys.fromSettings(settings, settings::environmentVariable);
    try {
      return FileTokenStore.builder(path).clock(clock).encryption(keys).build();
    } catch (TokenStoreException e) {
      throw new ConfigurationException(null, "path", e.getMessage(), e);
    }
  }
}
