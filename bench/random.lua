-- Requests the paths listed in the file named by PATHS (one a line), uniformly at random.
local paths = {}
for line in io.lines(os.getenv("PATHS")) do
  paths[#paths + 1] = line
end
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000)

request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
