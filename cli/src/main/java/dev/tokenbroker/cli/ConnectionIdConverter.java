package dev.tokenbroker.cli;

import dev.tokenbroker.ConnectionId;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses {@code provider:account}, reporting a malformed id as a usage error. */
final class ConnectionIdConverter implements ITypeConverter<ConnectionId> {
  @Override
  public ConnectionId convert(String value) {
    try {
      return ConnectionId.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
