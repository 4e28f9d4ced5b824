-- What the resident's map needs from OpenStreetMap: streets with their names, buildings with
-- their numbers, water. Nothing else is kept, so a city's archive stays small enough for a phone.

node_keys = { "addr:housenumber" }

local MAJOR = { motorway = true, trunk = true, primary = true, secondary = true,
                motorway_link = true, trunk_link = true, primary_link = true,
                secondary_link = true }
local MINOR = { tertiary = true, tertiary_link = true, residential = true,
                unclassified = true, living_street = true, service = true, road = true,
                pedestrian = true }
local PATH = { footway = true, path = true, steps = true, cycleway = true, track = true }

function init_function()
end

function exit_function()
end

function node_function(node)
  local number = node:Find("addr:housenumber")
  if number ~= "" then
    node:Layer("housenumbers", false)
    node:Attribute("housenumber", number)
  end
end

function way_function(way)
  local highway = way:Find("highway")
  local building = way:Find("building")
  local natural = way:Find("natural")
  local waterway = way:Find("waterway")
  local landuse = way:Find("landuse")

  if highway ~= "" then
    local kind = nil
    if MAJOR[highway] then kind = "major"
    elseif MINOR[highway] then kind = "minor"
    elseif PATH[highway] then kind = "path" end
    if kind then
      way:Layer("roads", false)
      way:Attribute("kind", kind)
      local name = way:Find("name")
      if name ~= "" then way:Attribute("name", name) end
      if kind == "minor" then way:MinZoom(12) end
      if kind == "path" then way:MinZoom(14) end
    end
  end

  if natural == "water" or waterway == "riverbank" or landuse == "reservoir"
     or landuse == "basin" then
    if way:IsClosed() then way:Layer("water", true) end
  elseif waterway == "river" or waterway == "canal" or waterway == "stream" then
    way:Layer("waterway", false)
  end

  if building ~= "" and way:IsClosed() then
    way:Layer("buildings", true)
    local number = way:Find("addr:housenumber")
    if number ~= "" then
      way:LayerAsCentroid("housenumbers")
      way:Attribute("housenumber", number)
    end
  end
end
