/**
 * Who submits Spark jobs: the master accepts the workstation's jobs key for this user, who reads
 * the cluster's configuration through the spark group and has no sudo. The bootstrap key, which
 * is ubuntu (root) on every node, is the operators' admin identity and is not needed to run a job.
 */
export const SPARK_JOBS_USER = "spark-jobs";

/** The file, in ubuntu's ~/.ssh on the workstation, of its private key for SPARK_JOBS_USER: made at its setup and never copied. */
export const SPARK_JOBS_KEY_FILE = "platform_jobs";

/** The same key as an operator on the workstation names it. */
export const SPARK_JOBS_KEY = `~/.ssh/${SPARK_JOBS_KEY_FILE}`;
