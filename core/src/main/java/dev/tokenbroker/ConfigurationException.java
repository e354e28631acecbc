package dev.tokenbroker;

import org.jspecify.annotations.Nullable;

/**
 * Bad configuration: an unknown provider, a missing or malformed setting, an unresolved {@code
 * ${VAR}}, an option set twice. Thrown when the broker is built, never later, and its message names
 * the connection and the setting.
 */
public final class ConfigurationException extends TokenBrokerException {
  private static final long serialVersionUID = 1L;

  /** The offending setting, or null. */
  private final @Nullable String setting;

  /**
   * @param connection the connection whose configuration is wrong, or null (store, file, builder)
   * @param setting the offending setting, or null when the problem is not one setting
   * @param problem what is wrong, for a person; never a setting's value (it may be a secret)
   */
  public ConfigurationException(
      @Nullable ConnectionId connection, @Nullable String setting, String problem) {
    this(connection, setting, problem, null);
  }

  /**
   * @param connection the connection whose configuration is wrong, or null (store, file, builder)
   * @param setting the offending setting, or null when the problem is not one setting
   * @param problem what is wrong, for a person; never a setting's value (it may be a secret)
   * @param cause the underlying failure, or null
   */
  public ConfigurationException(
      @Nullable ConnectionId connection,
      @Nullable String setting,
      String problem,
      @Nullable Throwable cause) {
    super(connection, describe(connection, setting, problem), cause);
    this.setting = setting;
  }

  private ConfigurationException(ConfigurationException e, String message) {
    super(e.connection(), message, e.getCause());
    this.setting = e.setting;
    setStackTrace(e.getStackTrace());
  }

  /** {@code e} with {@code message} instead of its own: for masking values in messages. */
  static ConfigurationException withMessage(ConfigurationException e, String message) {
    return new ConfigurationException(e, message);
  }

  /**
   * The offending setting (e.g. {@code mall-id}), or null when the problem is not one setting.
   *
   * @return the offending setting (such as {@code mall-id}), or null
   */
  public @Nullable String setting() {
    return setting;
  }

  private static String describe(
      @Nullable ConnectionId connection, @Nullable String setting, String problem) {
    StringBuilder b = new StringBuilder();
    if (connection != null) {
      b.append("connection ").append(connection).append(": ");
    }
    if (setting != null) {
      b.append("setting '").append(setting).append("': ");
    }
    return b.append(problem).toString();
  }
}
