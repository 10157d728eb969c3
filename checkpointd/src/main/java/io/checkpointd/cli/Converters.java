package io.checkpointd.cli;

import io.checkpointd.config.HostPort;
import io.checkpointd.config.Units;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Command-line values with units, parsed by the same rules as the config file. */
public final class Converters {
    private Converters() {
    }

    /** "25ms", "1.5s" to nanoseconds. */
    public static final class DurationNs implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return Units.parseDurationNs(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** "256MiB" to bytes. */
    static final class Bytes implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return Units.parseBytes(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    public static final class Address implements ITypeConverter<HostPort> {
        @Override
        public HostPort convert(String value) {
            try {
                return HostPort.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
