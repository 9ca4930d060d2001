# Sourced by the benchmarks (bench/provisioning.sh, bench/storm.sh): `bench_nginx DIR` starts nginx
# (one worker, no access log) in the background, serving DIR/www on a free 127.0.0.1 port, and sets
# NGINX_PID and NGINX_PORT; the caller stops it.
bench_nginx() {
  local dir="$1"
  mkdir -p "$dir/www" "$dir/nginx"
  NGINX_PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  cat >"$dir/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  default_type text/plain;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $dir/www;
  }
}
CONF
  nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx" 2>"$dir/nginx/start.err" &
  NGINX_PID=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && break
    sleep 0.05
  done
}
