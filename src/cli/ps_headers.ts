/**
 * The column headers of `ps`, for its default table and for `--format table ...`.
 *
 * @module
 */

/** Column names of `ps`'s fields (docker/cli's NewContainerContext). */
export const PS_HEADERS: Record<string, string> = {
  ID: "CONTAINER ID",
  Names: "NAMES",
  Image: "IMAGE",
  Command: "COMMAND",
  CreatedAt: "CREATED AT",
  RunningFor: "CREATED",
  Ports: "PORTS",
  State: "STATE",
  Status: "STATUS",
  Size: "SIZE",
  Labels: "LABELS",
  Mounts: "MOUNTS",
  LocalVolumes: "LOCAL VOLUMES",
  Networks: "NETWORKS",
  Platform: "PLATFORM",
  HealthStatus: "HEALTH STATUS",
};
