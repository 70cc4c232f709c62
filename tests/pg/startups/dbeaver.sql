-- DBeaver (24-25, PostgreSQL plugin over pgjdbc 42): the connection's settings, the default
-- schema and user, the schema and database lists, the server's settings and version, and the
-- navigator's reads of pg_class for a schema.
-- ---
SET extra_float_digits = 3
-- ---
SET application_name = 'PostgreSQL JDBC Driver'
-- ---
SET application_name = 'DBeaver 25.1.5 - Main <cqlake>'
-- ---
SELECT current_schema(),session_user
-- ---
SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass ORDER BY nspname
-- ---
SHOW search_path
-- ---
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname='cqlake'
-- ---
SELECT * FROM pg_catalog.pg_settings where name='standard_conforming_strings'
-- ---
SELECT version()
-- ---
SELECT * FROM pg_catalog.pg_enum WHERE 1<>1 LIMIT 1
-- ---
SELECT reltype FROM pg_catalog.pg_class WHERE 1<>1 LIMIT 1
-- ---
SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description FROM pg_catalog.pg_type t LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid WHERE t.typname IS NOT NULL AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')
-- ---
SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key
FROM pg_catalog.pg_class c
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass
WHERE c.relnamespace=2200 AND c.relkind not in ('i','I','c')
