"""The declarative shop connector: any REST or GraphQL shop API described in the configuration."""
